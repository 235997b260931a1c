using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Planning;
using ConfigInjector.Core.Policies;
using ConfigInjector.Kubernetes;
using ConfigInjector.Sync;
using ConfigInjector.TestSupport.Fakes;
using k8s;
using Microsoft.Extensions.Logging.Abstractions;

namespace ConfigInjector.Bench;

/// <summary>
/// One rotation pass over 10,000 managed Secrets (<c>--secrets N</c>) sharing 500 refs, against the fake kube-apiserver and the Vault fake:
/// first with nothing changed (the baseline), then after 1% of the refs (so ~1% of the Secrets) changed.
/// </summary>
internal static class RotationScenario
{
    private const int Refs = 500;

    public static async Task<string> RunAsync(int secrets)
    {
        await using var api = await KubeApiFake.StartAsync();
        await using var vault = await VaultFake.StartAsync();
        vault.EnableKv("secret", 2);
        for (var r = 0; r < Refs; r++)
            vault.Put($"secret/rot/ref-{r}", new Dictionary<string, string> { ["value"] = $"rot-value-{r}-v1" });
        var signingKey = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        for (var i = 0; i < secrets; i++)
        {
            var r = i % Refs;
            // Exactly as admission writes them (signed over refs, service account, interval and mode).
            var model = ManagedSecretFactory.Create(new ManagedSecretSpec(
                $"configinjector-app-{i}", $"team-{i % 20}", new Dictionary<string, string> { ["TOKEN"] = $"rot-value-{r}-v1" },
                new Dictionary<string, KeySource> { ["TOKEN"] = new($"vault-bench:secret/rot/ref-{r}#value", "1") },
                new RotationSettings(TimeSpan.FromMinutes(5), RotationMode.None), null, "default"), signingKey);
            var secret = JsonNode.Parse(k8s.KubernetesJson.Serialize(model))!.AsObject();
            api.Put("secrets", secret);
        }

        var client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = api.Address.ToString() });
        var backends = await BenchVault.BackendsAsync(vault);
        var events = new EventRecorder(client, TimeProvider.System, "bench", NullLogger<EventRecorder>.Instance);
        var cluster = new KubernetesSyncCluster(client, events);
        using var limiter = new BackendLimiter(100_000);
        var pass = BenchRotationPass.Create(cluster, backends, signingKey, "secret/rot/*", limiter);

        var strings = new SharedStrings();
        var maps = new SharedMaps(strings);
        // What the leader keeps of each Secret now (digests, not values), or the Secrets whole as it kept them before.
        async Task<(double Seconds, int Reads, int Writes, int Events, long AllocatedMiB, int Updated)> Measure(bool whole = false)
        {
            var listed = (await client.CoreV1.ListSecretForAllNamespacesAsync(labelSelector: ManagedSecretFactory.ManagedBySelector)).Items;
            var list = whole ? listed : [.. listed.Select(s => (k8s.Models.V1Secret)KeptSecret.From(s, signingKey, strings, maps))];
            var readsBefore = vault.Count("GET secret/data/rot/");
            var putsBefore = api.Count("PUT secrets");
            var eventsBefore = api.Count("POST events");
            var allocated = GC.GetTotalAllocatedBytes();
            var started = Stopwatch.GetTimestamp();
            var results = await pass.RunAsync([.. list], CancellationToken.None);
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            return (seconds, vault.Count("GET secret/data/rot/") - readsBefore, api.Count("PUT secrets") - putsBefore, api.Count("POST events") - eventsBefore,
                (GC.GetTotalAllocatedBytes() - allocated) / (1024 * 1024), results.Count(r => r.Status == ReconcileStatus.Updated));
        }

        await Measure(); // warm-up: JIT, TLS and connection pools, so the baseline is a steady pass
        await Measure(whole: true);
        var wholeBaseline = await Measure(whole: true);
        var baseline = await Measure();
        for (var r = 0; r < Refs / 100; r++)
            vault.Put($"secret/rot/ref-{r}", new Dictionary<string, string> { ["value"] = $"rot-value-{r}-v2" });
        var changed = await Measure();
        var peak = Process.GetCurrentProcess().PeakWorkingSet64 / (1024 * 1024);
        var (withValues, withoutValues) = await InformerBytesPerSecretAsync(cluster);

        return string.Create(CultureInfo.InvariantCulture, $"""
            == rotation pass: {secrets:N0} managed Secrets sharing {Refs} refs (fake kube-apiserver + Vault fake over HTTPS, same process)
                                          wall s   Vault reads   Secret writes   Events   allocated MiB   Secrets updated
            nothing changed, whole      {wholeBaseline.Seconds,8:F2} {wholeBaseline.Reads,13} {wholeBaseline.Writes,15} {wholeBaseline.Events,8} {wholeBaseline.AllocatedMiB,15} {wholeBaseline.Updated,17}
            nothing changed, kept       {baseline.Seconds,8:F2} {baseline.Reads,13} {baseline.Writes,15} {baseline.Events,8} {baseline.AllocatedMiB,15} {baseline.Updated,17}
            1% changed, kept            {changed.Seconds,8:F2} {changed.Reads,13} {changed.Writes,15} {changed.Events,8} {changed.AllocatedMiB,15} {changed.Updated,17}
            kept as digests (the leader now) vs whole (before), nothing changed: wall time ratio {baseline.Seconds / wholeBaseline.Seconds:F2}
            ratio changed/baseline wall time {changed.Seconds / baseline.Seconds:F2}; peak working set of the whole process (fakes included) {peak} MiB
            informer memory per managed Secret (live heap after a full list): {withValues:N0} bytes kept with values (signed), {withoutValues:N0} bytes as metadata only (unsigned)

            """);
    }

    /// <summary>
    /// What the per-replica informer holds per managed Secret: the heap taken by the objects it keeps (as the API
    /// lists them, deserialized), with values and as metadata only, over their count.
    /// </summary>
    private static async Task<(long WithValues, long WithoutValues)> InformerBytesPerSecretAsync(KubernetesSyncCluster cluster)
    {
        var page = await cluster.ListManagedSecretsAsync(null, 100_000, s => s, CancellationToken.None);
        var json = page.Items.Select(s => k8s.KubernetesJson.Serialize(s)).ToList();
        long Measure(Func<k8s.Models.V1Secret, k8s.Models.V1Secret> keep)
        {
            var before = GC.GetTotalMemory(forceFullCollection: true);
            var kept = json.Select(j => keep(k8s.KubernetesJson.Deserialize<k8s.Models.V1Secret>(j))).ToList();
            var after = GC.GetTotalMemory(forceFullCollection: true);
            GC.KeepAlive(kept);
            return (after - before) / kept.Count;
        }
        return (Measure(s => s), Measure(ManagedSecretInformer.WithoutData));
    }
}
