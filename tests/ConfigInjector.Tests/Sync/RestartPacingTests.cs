using ConfigInjector.Observability;
using ConfigInjector.Sync;
using ConfigInjector.TestSupport.Fakes;
using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;

namespace ConfigInjector.Tests.Sync;

/// <summary>
/// Restart pacing on a fake clock against the fake API server: at most maxConcurrentRestarts roll at once; a slot
/// frees when a rollout completes or when restartTimeout passes — no waiting on the wall clock.
/// </summary>
public sealed class RestartPacingTests : IAsyncLifetime
{
    private SyncHarness _sync = null!;

    public async Task InitializeAsync() => _sync = await SyncHarness.StartAsync();

    public async Task DisposeAsync() => await _sync.DisposeAsync();

    [Fact]
    public async Task At_most_max_restarts_roll_at_once_and_a_slot_frees_on_completion_or_timeout()
    {
        var settings = SyncSettings.Default with { MaxConcurrentRestarts = 5, RestartTimeout = TimeSpan.FromMinutes(10) };
        var restarter = new WorkloadRestarter(_sync.Cluster, settings, _sync.Time, new InjectorMetrics(Metrics.NewCustomRegistry()), NullLogger<WorkloadRestarter>.Instance);
        var names = Enumerable.Range(0, 7).Select(i => $"svc-{i}").ToList();
        foreach (var name in names)
        {
            _sync.Api.AddDeployment("shop", name);
            restarter.Enqueue(new Workload("Deployment", "shop", name));
        }
        int Restarted() => names.Count(n => _sync.Api.RestartedAt("shop", n) is not null);

        await restarter.PumpAsync(CancellationToken.None);
        Assert.Equal((5, 2), (Restarted(), restarter.Pending));

        await restarter.PumpAsync(CancellationToken.None);     // nothing finished: nothing more starts
        Assert.Equal(5, Restarted());

        _sync.Api.CompleteRollout("shop", names.First(n => _sync.Api.RestartedAt("shop", n) is not null));
        await restarter.PumpAsync(CancellationToken.None);
        Assert.Equal((6, 1), (Restarted(), restarter.Pending));

        _sync.Time.Advance(settings.RestartTimeout + TimeSpan.FromSeconds(1));
        await restarter.PumpAsync(CancellationToken.None);
        Assert.Equal((7, 0), (Restarted(), restarter.Pending));
        Assert.Equal(7, _sync.Api.Events("RolloutRestart").Count);
    }
}
