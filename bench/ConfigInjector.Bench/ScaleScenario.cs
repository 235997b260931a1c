using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Planning;
using ConfigInjector.Core.Policies;
using ConfigInjector.Kubernetes;
using ConfigInjector.ManagedSecrets;
using ConfigInjector.Sync;
using ConfigInjector.TestSupport.Fakes;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace ConfigInjector.Bench;

/// <summary>
/// Memory that does not grow with the cluster: 50,000 managed Secrets as admission writes them (one per ReplicaSet,
/// signed), listed and watched through a replica's real managed-Secret watch against the fake kube-apiserver. What the
/// watch holds, as live heap after a full collection with it minus without it: kept by every replica (the design
/// before, and the leader's store now) against a follower that only tells its listeners.
/// </summary>
internal static class ScaleScenario
{
    private const int Secrets = 50_000;

    public static async Task<string> RunAsync(int rounds)
    {
        await using var api = await KubeApiFake.StartAsync();
        var signingKey = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        for (var i = 0; i < Secrets; i++)
        {
            var owner = new V1OwnerReference { ApiVersion = "apps/v1", Kind = "ReplicaSet", Name = $"app-{i}-5d8f7c", Uid = Guid.NewGuid().ToString(), Controller = true };
            var model = ManagedSecretFactory.Create(new ManagedSecretSpec(
                $"configinjector-app-{i}", $"team-{i % 50}",
                new Dictionary<string, string> { ["DB_PASSWORD"] = $"password-{i % 500}", ["DB_USER"] = "app" },
                new Dictionary<string, KeySource> { ["DB_PASSWORD"] = new($"vault-prod:secret/team-{i % 50}/db#password", "3"), ["DB_USER"] = new($"vault-prod:secret/team-{i % 50}/db#user", "3") },
                new RotationSettings(TimeSpan.FromMinutes(5), RotationMode.Restart), owner, "default"), signingKey);
            api.Put("secrets", JsonNode.Parse(KubernetesJson.Serialize(model))!.AsObject());
        }
        var client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = api.Address.ToString() });
        var cluster = new KubernetesSyncCluster(client, new EventRecorder(client, TimeProvider.System, "bench", NullLogger<EventRecorder>.Instance));
        var keys = new StaticSigningKey(signingKey);

        var kept = new List<(long Bytes, double Seconds)>();
        var told = new List<(long Bytes, double Seconds)>();
        await HeldAsync(cluster, keys, retain: false); // warm-up
        for (var round = 0; round < rounds; round++)
        {
            kept.Add(await HeldAsync(cluster, keys, retain: true));
            told.Add(await HeldAsync(cluster, keys, retain: false));
        }
        var keptBytes = Stats.Median(kept.Select(k => (double)k.Bytes));
        var toldBytes = Stats.Median(told.Select(k => (double)k.Bytes));
        return string.Create(CultureInfo.InvariantCulture, $"""
            == scale: {Secrets:N0} managed Secrets (one per ReplicaSet, signed, two keys each) through a replica's managed-Secret watch, fake kube-apiserver ({rounds} alternating rounds, medians)
                                                      heap held (MiB)   per Secret (bytes)   list+sync s
            kept (every replica before; the leader now)  {keptBytes / (1 << 20),15:F1} {keptBytes / Secrets,20:F0} {Stats.Median(kept.Select(k => k.Seconds)),13:F2}
            told only (a follower now)                   {toldBytes / (1 << 20),15:F1} {toldBytes / Secrets,20:F0} {Stats.Median(told.Select(k => k.Seconds)),13:F2}
            ratio follower/before {toldBytes / keptBytes:F3}

            """);
    }

    /// <summary>
    /// Lists through a fresh watch until every Secret was told (and kept, if retaining): the live heap then minus the
    /// live heap before it started (the first round of each kind warms the client and the fake's pools).
    /// </summary>
    private static async Task<(long Bytes, double Seconds)> HeldAsync(KubernetesSyncCluster cluster, StaticSigningKey keys, bool retain)
    {
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var started = Stopwatch.GetTimestamp();
        var told = 0;
        var watch = new ManagedSecretWatch(cluster, keys, SyncSettings.Default, TimeProvider.System, NullLogger<ManagedSecretWatch>.Instance);
        watch.Informer.Changed += (_, _) => Interlocked.Increment(ref told);
        if (retain)
            watch.Informer.StartRetaining();
        await watch.StartAsync(CancellationToken.None);
        while (Volatile.Read(ref told) < Secrets || (retain && watch.Informer.Items.Count < Secrets))
            await Task.Delay(10);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var held = GC.GetTotalMemory(forceFullCollection: true) - before;
        await watch.StopAsync(CancellationToken.None);
        // A stopped watch may outlive this call for a while (its connection winds down): the next round must not
        // count its store as freed, so it lets go of it here.
        watch.Informer.StopRetaining();
        return (held, seconds);
    }
}
