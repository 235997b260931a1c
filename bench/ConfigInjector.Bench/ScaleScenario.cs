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

        var forms = new (string Name, Func<Informer<V1Secret>> Create)[]
        {
            ("kept whole (every replica before)", () => ManagedSecretInformer.Create(cluster, TimeProvider.System, NullLogger.Instance, retain: true)),
            ("kept, strings shared (the leader before)", () => ManagedSecretInformer.Create(cluster, TimeProvider.System, NullLogger.Instance, retain: true, storeAs: new SharedStrings().Share)),
            ("kept as digests (the leader now)", () => LeadersInformer(cluster, signingKey)),
            ("told only (a follower now)", () => ManagedSecretInformer.Create(cluster, TimeProvider.System, NullLogger.Instance, retain: false)),
        };
        var samples = forms.Select(_ => new List<(long Bytes, double Seconds)>()).ToArray();
        await HeldAsync(forms[^1].Create); // warm-up: the client's and the fake's pools
        for (var round = 0; round < rounds; round++)
        {
            for (var f = 0; f < forms.Length; f++)
                samples[f].Add(await HeldAsync(forms[f].Create));
        }
        var baseline = Stats.Median(samples[0].Select(k => (double)k.Bytes));
        var rows = string.Join("\n", forms.Select((f, i) =>
        {
            var bytes = Stats.Median(samples[i].Select(k => (double)k.Bytes));
            return string.Create(CultureInfo.InvariantCulture,
                $"{f.Name,-40} {bytes / (1 << 20),15:F1} {bytes / Secrets,20:F0} {bytes / baseline,8:F3} {Stats.Median(samples[i].Select(k => k.Seconds)),13:F2}");
        }));
        return string.Create(CultureInfo.InvariantCulture, $"""
            == scale: {Secrets:N0} managed Secrets (one per ReplicaSet, signed, two keys each) through the managed-Secret informer, fake kube-apiserver ({rounds} rounds, medians)
            what the informer holds                  heap held (MiB)   per Secret (bytes)    ratio   list+sync s
            {rows}

            """);
    }

    /// <summary>The informer of a replica that leads, as the process builds it (it keeps a <see cref="KeptSecret"/> of each).</summary>
    private static Informer<V1Secret> LeadersInformer(KubernetesSyncCluster cluster, byte[] signingKey)
    {
        var watch = new ManagedSecretWatch(cluster, new StaticSigningKey(signingKey), SyncSettings.Default, TimeProvider.System, NullLogger<ManagedSecretWatch>.Instance);
        watch.Informer.StartRetaining();
        return watch.Informer;
    }

    /// <summary>
    /// Lists through a fresh informer until every Secret was told (and kept, if it retains): the live heap then minus
    /// the live heap before it started.
    /// </summary>
    private static async Task<(long Bytes, double Seconds)> HeldAsync(Func<Informer<V1Secret>> create)
    {
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var started = Stopwatch.GetTimestamp();
        var told = 0;
        var informer = create();
        informer.Changed += (_, _) => Interlocked.Increment(ref told);
        using var stop = new CancellationTokenSource();
        var running = informer.RunAsync(stop.Token);
        while (Volatile.Read(ref told) < Secrets)
            await Task.Delay(10);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var held = GC.GetTotalMemory(forceFullCollection: true) - before;
        await stop.CancelAsync();
        await running;
        // A stopped informer may outlive this call for a while: the next round must not count its store as freed.
        informer.StopRetaining();
        return (held, seconds);
    }
}
