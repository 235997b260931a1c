using System.Globalization;
using System.Text.Json.Nodes;
using ConfigInjector.Sync;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Builders;
using ConfigInjector.TestSupport.Fakes;
using Microsoft.Extensions.DependencyInjection;

namespace ConfigInjector.Tests.Sync;

/// <summary>
/// Two replicas: one sync worker leads and writes; when it dies the other takes over within the lease duration. A
/// leader that cannot renew its Lease while it lives stops writing and stops exporting what only a leader measures.
/// </summary>
public sealed class LeaderElectionTests : IAsyncLifetime
{
    private ClusterEnvironment _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ClusterEnvironment.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_rotation_by_the_leader_reaches_the_followers_admission_cache()
    {
        var a = await _cluster.StartReplicaAsync("replica-a", cacheTtl: "5m");
        var b = await _cluster.StartReplicaAsync("replica-b", cacheTtl: "5m");
        await Eventually.TrueAsync(() => a.Services.GetRequiredService<SyncWorker>().IsLeader || b.Services.GetRequiredService<SyncWorker>().IsLeader, "a leader");
        var follower = a.Services.GetRequiredService<SyncWorker>().IsLeader ? b : a;
        var first = _cluster.Api.AddDeployment("shop", "web");
        var pod = ClusterEnvironment.PodOf(first).WithAnnotation("configinjector.io/secret.DB_PASSWORD", "vault-prod:secret/shop/db#password");
        var firstName = (string)PatchOracle.Apply(pod.ToJson(), (await follower.ReviewPodAsync(pod, "shop")).Patch!)["metadata"]!["annotations"]!["configinjector.io/managed-secret"]!;

        _cluster.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "cluster-only-password-v2", ["user"] = "shop" });
        await Eventually.TrueAsync(() => _cluster.Api.Events("Rotated").Count > 0, "the leader's rotation");

        // A new ReplicaSet (what the restart creates) admitted by the follower gets the new value, not the one its
        // cache holds for five minutes: the follower's watch drops the stale entry (within seconds, not a TTL).
        var attempt = 0;
        await Eventually.TrueAsync(() =>
        {
            var next = _cluster.Api.AddDeployment("shop", $"web-next-{++attempt}");
            var newPod = ClusterEnvironment.PodOf(next).WithAnnotation("configinjector.io/secret.DB_PASSWORD", "vault-prod:secret/shop/db#password");
            var newName = (string)PatchOracle.Apply(newPod.ToJson(), follower.ReviewPodAsync(newPod, "shop").Result.Patch!)["metadata"]!["annotations"]!["configinjector.io/managed-secret"]!;
            Assert.NotEqual(firstName, newName);
            var data = _cluster.Api.Get("secrets", "shop", newName)!["data"]!["DB_PASSWORD"]!.GetValue<string>();
            return System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(data)) == "cluster-only-password-v2";
        }, "the follower to admit with the rotated value", TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Only_the_leader_writes_and_the_other_takes_over_when_it_dies()
    {
        var a = await _cluster.StartReplicaAsync("replica-a");
        var b = await _cluster.StartReplicaAsync("replica-b");
        var workerA = a.Services.GetRequiredService<SyncWorker>();
        var workerB = b.Services.GetRequiredService<SyncWorker>();
        await Eventually.TrueAsync(() => workerA.IsLeader || workerB.IsLeader, "a leader");
        var (leader, follower, followerWorker) = workerA.IsLeader ? (a, b, workerB) : (b, a, workerA);
        var leaderName = workerA.IsLeader ? "replica-a" : "replica-b";
        Assert.False(followerWorker.IsLeader);

        // Both replicas admit pods; only the leader's worker rotates.
        var rs = _cluster.Api.AddDeployment("shop", "web");
        await follower.ReviewPodAsync(ClusterEnvironment.PodOf(rs).WithAnnotation("configinjector.io/secret.DB_PASSWORD", "vault-prod:secret/shop/db#password"), "shop");
        _cluster.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "cluster-only-password-v2", ["user"] = "shop" });
        await Eventually.TrueAsync(() => _cluster.Api.Events("Rotated").Count > 0, "a rotation");
        Assert.All(_cluster.Api.Events("Rotated"), e => Assert.Equal(leaderName, e["reportingInstance"]!.GetValue<string>()));
        // Not one write of a managed Secret by the follower, successful or not (a lost 409 leaves no Event behind).
        var followerName = leaderName == "replica-a" ? "replica-b" : "replica-a";
        Assert.DoesNotContain(_cluster.Api.RequestsBy, r => r.StartsWith($"{followerName} PUT secrets ", StringComparison.Ordinal) || r.StartsWith($"{followerName} DELETE secrets ", StringComparison.Ordinal));
        Assert.Equal(leaderName, _cluster.Api.Get("leases", "config-injector", ConfigInjector.Hosting.ReleaseNames.Default.Lease)!["spec"]!["holderIdentity"]!.GetValue<string>());

        await leader.StopAsync();
        var stopped = DateTime.UtcNow;
        await Eventually.TrueAsync(() => followerWorker.IsLeader, "the other replica to take over", TimeSpan.FromSeconds(15));
        // Lease 3s, retry 0.5s (jittered to 0.6s): it ends ~3.6-4.2 s after the last write the follower saw; seconds, not
        // the 15 s the wait allows, with room for a loaded machine. LeaderElectorTests pin the exact bounds on a fake clock.
        Assert.True(DateTime.UtcNow - stopped < TimeSpan.FromSeconds(10), "took over within seconds");

        _cluster.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "cluster-only-password-v3", ["user"] = "shop" });
        await Eventually.TrueAsync(() => _cluster.Api.Events("Rotated").Any(e => e["reportingInstance"]!.GetValue<string>() == followerName), "a rotation by the new leader");
    }

    [Fact]
    public async Task A_leader_whose_lease_renewals_fail_while_it_lives_stops_writing_secrets_and_its_gauges_go_to_zero()
    {
        var a = await _cluster.StartReplicaAsync("replica-a");
        var worker = a.Services.GetRequiredService<SyncWorker>();
        await Eventually.TrueAsync(() => worker.IsLeader, "leadership");
        // What only the leader measures, made non-zero: a pod on an older version than its Secret, and one that escaped injection.
        var name = await _cluster.AdmitAsync(a, ClusterEnvironment.PodOf(_cluster.Api.AddDeployment("shop", "web")).WithAnnotation("configinjector.io/secret.DB_PASSWORD", "vault-prod:secret/shop/db#password"), "web-1");
        _cluster.Api.Put("pods", JsonNode.Parse(PodBuilder.Injected("escaped").InNamespace("shop").ToJson())!.AsObject());
        _cluster.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "cluster-only-password-v2", ["user"] = "shop" });
        await Eventually.TrueAsync(() => Metric(a, "configinjector_pods_on_stale_version{namespace=\"shop\"}") == 1 && Metric(a, "configinjector_missed_injections") == 1
            && Metric(a, "configinjector_managed_secrets") == 1 && Metric(a, "configinjector_sync_leader") == 1, "the leader's gauges");

        using (_cluster.Api.FailFrom("replica-a", "PUT", "leases"))
        {
            await Eventually.TrueAsync(() => !worker.IsLeader, "replica-a to stop leading at its renew deadline", TimeSpan.FromSeconds(10));
            var writes = SecretWritesBy("replica-a");
            _cluster.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "cluster-only-password-v3", ["user"] = "shop" });
            // A leader still at work would have read the new version and written it within a pass (1 s interval): three go by.
            await Task.Delay(TimeSpan.FromSeconds(3));

            Assert.Equal(writes, SecretWritesBy("replica-a"));
            Assert.Equal("cluster-only-password-v2", ClusterEnvironment.SecretValue(_cluster.Api.Get("secrets", "shop", name), "DB_PASSWORD"));
            Assert.Equal((0, 0, 0, null), (Metric(a, "configinjector_sync_leader"), Metric(a, "configinjector_missed_injections"),
                Metric(a, "configinjector_managed_secrets"), Metric(a, "configinjector_pods_on_stale_version{namespace=\"shop\"}")));
        }

        // Renewals answered again: it leads and writes the new version, so only the lost Lease held the write back.
        await Eventually.TrueAsync(() => ClusterEnvironment.SecretValue(_cluster.Api.Get("secrets", "shop", name), "DB_PASSWORD") == "cluster-only-password-v3", "replica-a to lead and rotate again");
    }

    /// <summary>One series as the replica's <c>GET /metrics</c> exports it now, or null when it is not exported.</summary>
    private static double? Metric(WebhookServer server, string series) =>
        server.Client.GetStringAsync("/metrics").Result.Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal)) is { } line
            ? double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture)
            : null;

    /// <summary>Creates, updates and deletes of Secrets sent by <paramref name="replica"/>, whatever the answer.</summary>
    private int SecretWritesBy(string replica) =>
        _cluster.Api.RequestsBy.Count(r => r.Split(' ') is [var by, "POST" or "PUT" or "PATCH" or "DELETE", "secrets", ..] && by == replica);

    [Fact]
    public async Task A_leader_keeps_one_list_and_one_watch_over_managed_secrets_for_all_its_listeners()
    {
        // A steady term: a new one (a short lease lost on a loaded machine) would list again.
        var server = await _cluster.StartReplicaAsync("replica-a", steadyLeader: true);
        var worker = server.Services.GetRequiredService<SyncWorker>();
        await Eventually.TrueAsync(() => worker.IsLeader, "leadership");
        // The worker's first pass runs over the shared informer's items: a rotation proves it is fed.
        var rs = _cluster.Api.AddDeployment("shop", "web");
        await server.ReviewPodAsync(ClusterEnvironment.PodOf(rs).WithAnnotation("configinjector.io/secret.DB_PASSWORD", "vault-prod:secret/shop/db#password"), "shop");
        _cluster.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "cluster-only-password-v2", ["user"] = "shop" });
        await Eventually.TrueAsync(() => _cluster.Api.Events("Rotated").Count > 0, "a rotation");

        // One watch open for every listener (the cache invalidation, the worker). The informer lists once at start and,
        // if it was already watching when leadership came, once more to fill the store only a leader keeps.
        var mine = _cluster.Api.RequestsBy.Where(r => r.StartsWith("replica-a GET secrets / ", StringComparison.Ordinal) || r == "replica-a GET secrets /").ToList();
        Assert.Equal(1, _cluster.Api.OpenWatches("secrets", "replica-a"));
        Assert.InRange(mine.Count(r => !r.EndsWith(" watch", StringComparison.Ordinal)), 1, 2);
    }
}
