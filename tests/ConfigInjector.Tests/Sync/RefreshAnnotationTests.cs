using System.Diagnostics;
using System.Text.Json.Nodes;
using ConfigInjector.Sync;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Fakes;
using k8s;
using k8s.Models;

namespace ConfigInjector.Tests.Sync;

/// <summary>
/// <c>kubectl annotate secret … configinjector.io/refresh=&lt;new&gt; --overwrite</c> against the fake API server: the
/// leader re-reads the Secret's refs within seconds, not on its (hour-long) interval; the same value asks nothing
/// again; and a flood of annotations is served by one read per ref.
/// </summary>
public sealed class RefreshAnnotationTests : IAsyncLifetime, IDisposable
{
    private const string HourLong = "{ interval: 1h, onChange: restart }";
    private const string DbRead = "GET secret/data/shop/db";

    private ClusterEnvironment _cluster = null!;
    private k8s.Kubernetes _kubectl = null!;

    public async Task InitializeAsync()
    {
        _cluster = await ClusterEnvironment.StartAsync();
        _kubectl = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = _cluster.Api.Address.ToString() });
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    public void Dispose() => _kubectl.Dispose();

    [Fact]
    public async Task A_new_refresh_value_makes_the_secret_due_now_and_the_same_value_does_not_again()
    {
        var server = await LeaderAsync();
        var name = await _cluster.AdmitAsync(server, ClusterEnvironment.PodOf(_cluster.Api.AddDeployment("shop", "checkout"))
            .WithAnnotation("configinjector.io/secret.DB_PASSWORD", "vault-prod:secret/shop/db#password"), "checkout-1");
        _cluster.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "cluster-only-password-v2", ["user"] = "shop" });

        await AnnotateAsync(name, "configinjector.io/refresh", "first");

        await Eventually.TrueAsync(() => Value(name) == "cluster-only-password-v2", "the annotated Secret to be refreshed", TimeSpan.FromSeconds(10));
        var reads = _cluster.Vault.Count(DbRead);
        _cluster.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "cluster-only-password-v3", ["user"] = "shop" });
        // Another change of the Secret that keeps the refresh value (its own rotation wrote it too): no new request.
        await AnnotateAsync(name, "example.com/touched", "yes");
        await Task.Delay(SyncSettings.Default.RefreshBatchWindow * 2 + TimeSpan.FromSeconds(1));
        Assert.Equal("cluster-only-password-v2", Value(name));
        Assert.Equal(reads, _cluster.Vault.Count(DbRead));
        Assert.Equal("first", _cluster.Api.Get("secrets", "shop", name)!["metadata"]!["annotations"]!["configinjector.io/refresh"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_flood_of_a_thousand_refresh_annotations_reads_each_ref_once()
    {
        var server = await LeaderAsync(_cluster, refreshBatchWindow: FloodWindow);
        var names = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            names.Add(await _cluster.AdmitAsync(server, ClusterEnvironment.PodOf(_cluster.Api.AddDeployment("shop", $"svc-{i}"))
                .WithAnnotation("configinjector.io/secret.DB_PASSWORD", "vault-prod:secret/shop/db#password")
                .WithAnnotation("configinjector.io/secret.DB_USER", "vault-prod:secret/shop/db#user"), $"svc-{i}-1"));
        }
        var reads = _cluster.Vault.Count(DbRead);
        _cluster.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "cluster-only-password-v2", ["user"] = "shop" });

        var flood = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, 1000), new ParallelOptions { MaxDegreeOfParallelism = 16 },
            async (i, ct) => await AnnotateAsync(names[i % names.Count], "configinjector.io/refresh", $"flood-{i}"));
        flood.Stop();

        await Eventually.TrueAsync(() => names.All(n => Value(n) == "cluster-only-password-v2"), "every annotated Secret to be refreshed", FloodWindow * 3);
        await Task.Delay(FloodWindow + TimeSpan.FromSeconds(1)); // a straggler would have started a second batch by now
        // The batch is due a window after the leader saw the first annotation: the flood must fit in it, with time to spare
        // for the leader to see the last one (a flood that took 1-3 s on a loaded machine has the rest of the window).
        Assert.True(flood.Elapsed < FloodWindow - TimeSpan.FromSeconds(2), $"the flood took {flood.Elapsed}, nearly the batch window: the test proves nothing");
        Assert.True(_cluster.Vault.Count(DbRead) - reads == 1, $"{_cluster.Vault.Count(DbRead) - reads} reads for the flood; the leader's log:\n{LeaderLog(server)}");
    }

    private static string LeaderLog(WebhookServer server) => string.Join("\n", server.Logs.Collector.GetSnapshot()
        .Where(r => r.Category?.StartsWith("ConfigInjector.Sync", StringComparison.Ordinal) == true && !r.Message.Contains("refresh requested", StringComparison.Ordinal))
        .Select(r => $"{r.Timestamp:HH:mm:ss.fff} {r.Message}"));

    /// <summary>
    /// The flood's batch window: the batch is due a window after the leader sees the first annotation, so a flood that
    /// takes most of a window (on a loaded machine) could straddle two batches without anything being wrong.
    /// </summary>
    private static readonly TimeSpan FloodWindow = TimeSpan.FromSeconds(10);

    private Task<WebhookServer> LeaderAsync() => LeaderAsync(_cluster);

    /// <summary>
    /// A replica that leads with an hour-long interval, its informer synced: Secrets admitted from now on are due after
    /// their interval only, so what refreshes them sooner is what a test does. Its term outlasts a loaded machine's
    /// stalls: a new term would make every Secret due and read each ref once more.
    /// </summary>
    internal static async Task<WebhookServer> LeaderAsync(ClusterEnvironment cluster, string identity = "replica-a", TimeSpan? refreshBatchWindow = null)
    {
        var window = (int)(refreshBatchWindow ?? SyncSettings.Default.RefreshBatchWindow).TotalSeconds;
        var server = await cluster.StartReplicaAsync(identity, rotation: HourLong, refreshBatchWindow: $"{window}s", steadyLeader: true);
        await server.UntilLeadingAndSyncedAsync();
        return server;
    }

    /// <summary>As <c>kubectl annotate --overwrite</c> sends it: a merge patch of that one annotation.</summary>
    private Task<V1Secret> AnnotateAsync(string name, string key, string value) =>
        _kubectl.CoreV1.PatchNamespacedSecretAsync(new V1Patch(new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [key] = value } } }.ToJsonString(), V1Patch.PatchType.MergePatch), name, "shop");

    private string Value(string name) => ClusterEnvironment.SecretValue(_cluster.Api.Get("secrets", "shop", name), "DB_PASSWORD");
}
