using ConfigInjector.Hosting;
using ConfigInjector.ManagedSecrets;
using ConfigInjector.Sync;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Fakes;
using Microsoft.Extensions.DependencyInjection;

namespace ConfigInjector.Tests.Sync;

/// <summary>
/// DESIGN §5: a restart that is due is recorded on the managed Secret, so it survives the worker's leader moving —
/// whichever replica leads next finishes it, exactly once, and a replica that leads again later replays nothing.
/// </summary>
public sealed class RestartAcrossLeadersTests : IAsyncLifetime
{
    private ClusterEnvironment _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ClusterEnvironment.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Six_paced_restarts_finish_exactly_once_across_a_leader_change_and_the_old_leader_replays_none_when_it_leads_again()
    {
        var a = await _cluster.StartReplicaAsync("replica-a", maxConcurrentRestarts: 1);
        var workerA = a.Services.GetRequiredService<SyncWorker>();
        await Eventually.TrueAsync(() => workerA.IsLeader, "replica-a to lead");
        var b = await _cluster.StartReplicaAsync("replica-b", maxConcurrentRestarts: 1);
        var workerB = b.Services.GetRequiredService<SyncWorker>();
        var names = Enumerable.Range(0, 6).Select(i => $"svc-{i}").ToList();
        foreach (var name in names)
            await _cluster.AdmitAsync(a, ClusterEnvironment.PodOf(_cluster.Api.AddDeployment("shop", name)).WithAnnotation("configinjector.io/secret.DB_PASSWORD", "vault-prod:secret/shop/db#password"), name + "-1");

        _cluster.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "cluster-only-password-v2", ["user"] = "shop" });
        await Eventually.TrueAsync(() => Restarted().Count == 1, "the first restart by replica-a");
        // The leader moves (as when replica-a stalls and its Lease is taken): replica-a stays up, its queue in memory.
        HandLeaseTo("replica-b");
        await Eventually.TrueAsync(() => workerB.IsLeader && !workerA.IsLeader, "replica-b to take over");

        var completed = new HashSet<string>();
        await Eventually.TrueAsync(() =>
        {
            // The deployment controller finishes one rollout at a time.
            if (Restarted().FirstOrDefault(n => !completed.Contains(n)) is { } rolling)
            {
                _cluster.Api.CompleteRollout("shop", rolling);
                completed.Add(rolling);
            }
            return completed.Count == names.Count;
        }, "all six workloads to be restarted", TimeSpan.FromSeconds(30));
        Assert.All(names, n => Assert.Equal(1, Patches(n)));
        await Eventually.TrueAsync(() => _cluster.Api.All("secrets", "shop").All(s => s["metadata"]!["annotations"]?[RestartRecord.Annotation] is null), "every restart record to be cleared");

        HandLeaseTo("replica-a");
        await Eventually.TrueAsync(() => workerA.IsLeader && !workerB.IsLeader, "replica-a to lead again");
        // Two passes of replica-a over every Secret (each reads the vault once): its restarter has been pumped since.
        var reads = _cluster.Vault.Requests.Count;
        await Eventually.TrueAsync(() => _cluster.Vault.Requests.Count >= reads + 2, "two passes of replica-a", TimeSpan.FromSeconds(10));

        Assert.All(names, n => Assert.Equal(1, Patches(n)));
        Assert.Equal(6, _cluster.Api.Events("RolloutRestart").Count);
    }

    private List<string> Restarted() =>
        [.. Enumerable.Range(0, 6).Select(i => $"svc-{i}").Where(n => _cluster.Api.RestartedAt("shop", n) is not null)];

    private int Patches(string deployment) => _cluster.Api.Requests.Count(r => r == $"PATCH deployments shop/{deployment}");

    /// <summary>Another replica becomes the Lease's holder: the old leader sees it on its next renewal and stops; the new one renews it as its own.</summary>
    private void HandLeaseTo(string identity) => _cluster.Api.Update("leases", "config-injector", ReleaseNames.Default.Lease, lease =>
    {
        lease["spec"]!["holderIdentity"] = identity;
        lease["spec"]!["renewTime"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", System.Globalization.CultureInfo.InvariantCulture);
    });
}
