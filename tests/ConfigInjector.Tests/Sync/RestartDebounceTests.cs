using ConfigInjector.Core.Annotations;
using ConfigInjector.Sync;
using ConfigInjector.TestSupport.Fakes;
using k8s.Models;

namespace ConfigInjector.Tests.Sync;

/// <summary>
/// <c>rotation.debounce</c> (10s here) on a fake clock against the fake API server: two refs of one workload changed 3s
/// apart give one restart, whose Event names both refs and versions; 30s apart, two. The window is recorded on the
/// Secret, so a leader that takes over mid-window restarts once too. Every restart started, finished, failed or timed
/// out is an Event on the workload and counts in <c>configinjector_restarts_total{namespace,kind,result}</c>.
/// </summary>
public sealed class RestartDebounceTests : IAsyncLifetime
{
    private const string SecretName = "configinjector-payments-5d8f7c-1";
    private SyncHarness _sync = null!;
    private (string Name, string Uid) _replicaSet;
    private RotationPass _leader = null!;

    public async Task InitializeAsync()
    {
        _sync = await SyncHarness.StartAsync();
        _sync.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "cluster-only-password-v1" });
        _sync.Vault.Put("secret/shop/api", new Dictionary<string, string> { ["key"] = "cluster-only-key-v1" });
        _sync.Policies.Allow("shop", "shop", null, "secret/shop/**", debounce: TimeSpan.FromSeconds(10));
        _replicaSet = _sync.Api.AddDeployment("shop", "payments");
        _sync.AddManaged("shop", SecretName, "default", new Dictionary<string, (string, string)>
        {
            ["DB_PASSWORD"] = ("vault-prod:secret/shop/db#password", "cluster-only-password-v1"),
            ["API_KEY"] = ("vault-prod:secret/shop/api#key", "cluster-only-key-v1"),
        }, owner: new V1OwnerReference { ApiVersion = "apps/v1", Kind = "ReplicaSet", Name = _replicaSet.Name, Uid = _replicaSet.Uid, Controller = true }, onChange: RotationMode.Restart);
        _sync.AddPod("payments-0", _replicaSet, KubeApiFakeExtensions.PodLabels(_replicaSet), _sync.Time.GetUtcNow() - TimeSpan.FromHours(1), SecretName);
        _leader = _sync.Pass();
    }

    public async Task DisposeAsync()
    {
        Assert.DoesNotContain(_sync.Api.All("events"), e => e.ToJsonString().Contains("cluster-only-", StringComparison.Ordinal));
        await _sync.DisposeAsync();
    }

    [Fact]
    public async Task Two_refs_changed_3s_apart_give_one_restart_naming_both()
    {
        await ChangeAsync("db", "password");
        await TickAsync(TimeSpan.FromSeconds(3));
        Assert.Null(_sync.Api.RestartedAt("shop", "payments"));

        await ChangeAsync("api", "key");
        await TickAsync(TimeSpan.FromSeconds(3));
        Assert.Null(_sync.Api.RestartedAt("shop", "payments"));
        var restart = await OnlyRestartAsync();

        Assert.Contains("vault-prod:secret/shop/db#password@2", restart, StringComparison.Ordinal);
        Assert.Contains("vault-prod:secret/shop/api#key@2", restart, StringComparison.Ordinal);
        Assert.Single(_sync.Api.Events("RolloutFinished"));
        Assert.Null(_sync.RestartDue("shop", SecretName));
    }

    [Fact]
    public async Task Two_refs_changed_30s_apart_give_two_restarts()
    {
        await ChangeAsync("db", "password");
        await TickAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(_sync.Api.RestartedAt("shop", "payments"));
        _sync.Api.CompleteRollout("shop", "payments");
        await TickAsync(TimeSpan.FromSeconds(20));

        await ChangeAsync("api", "key");
        await TickAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(2, _sync.Api.Events("RolloutRestart").Count);
    }

    [Fact]
    public async Task A_leader_that_takes_over_mid_window_restarts_once()
    {
        await ChangeAsync("db", "password");
        await TickAsync(TimeSpan.FromSeconds(3));

        // The next leader knows only what the Secret records: its own restarter, tracking what its informer lists.
        _leader = _sync.Pass();
        _sync.Restarts.Track(_sync.Read("shop", SecretName));
        await ChangeAsync("api", "key");
        await TickAsync(TimeSpan.FromSeconds(3));
        Assert.Null(_sync.Api.RestartedAt("shop", "payments"));

        Assert.Contains("vault-prod:secret/shop/db#password@2", await OnlyRestartAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_restart_that_fails_or_never_finishes_is_an_event_and_counted()
    {
        await ChangeAsync("db", "password");
        _sync.Api.FailNext("PATCH", "deployments", 403, reason: "Forbidden");
        await TickAsync(TimeSpan.FromSeconds(10));
        Assert.Single(_sync.Api.Events("RestartFailed"));
        Assert.Equal(1, Counted("failed"));

        await ChangeAsync("api", "key");
        await TickAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, Counted("started"));
        // Nothing finishes the rollout: its slot is freed after restartTimeout, and said so.
        await TickAsync(SyncSettings.Default.RestartTimeout + TimeSpan.FromSeconds(2));

        Assert.Single(_sync.Api.Events("RolloutTimedOut"));
        Assert.Equal(1, Counted("timed_out"));
        Assert.Equal(0, Counted("finished"));
    }

    /// <summary>Version 2 of <c>secret/shop/&lt;path&gt;#&lt;key&gt;</c> in the vault, and the leader's pass that rotates it in.</summary>
    private async Task ChangeAsync(string path, string key)
    {
        _sync.Vault.Put($"secret/shop/{path}", new Dictionary<string, string> { [key] = $"cluster-only-{key}-v2" });
        await RotateAsync();
    }

    /// <summary>Past the window the rollout is made to finish; the one restart there was, by its Event's message.</summary>
    private async Task<string> OnlyRestartAsync()
    {
        await TickAsync(TimeSpan.FromSeconds(4));
        _sync.Api.CompleteRollout("shop", "payments");
        await TickAsync(TimeSpan.FromSeconds(30));
        return Assert.Single(_sync.Api.Events("RolloutRestart"))["message"]!.GetValue<string>();
    }

    private double Counted(string result) => _sync.PassMetrics.Restarts.WithLabels("shop", "Deployment", result).Value;

    /// <summary>The leader's rotation pass over the Secret as the API server holds it now.</summary>
    private async Task RotateAsync() => await _leader.RunAsync([_sync.Read("shop", SecretName)], CancellationToken.None);

    /// <summary>The worker's ticks over <paramref name="span"/>, one a second.</summary>
    private async Task TickAsync(TimeSpan span)
    {
        for (var elapsed = TimeSpan.Zero; elapsed < span; elapsed += TimeSpan.FromSeconds(1))
        {
            _sync.Time.Advance(TimeSpan.FromSeconds(1));
            await _sync.Restarts.ResolveAsync(CancellationToken.None);
            await _sync.Restarter.PumpAsync(CancellationToken.None);
        }
    }
}
