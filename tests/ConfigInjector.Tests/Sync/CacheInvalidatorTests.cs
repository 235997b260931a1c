using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Planning;
using ConfigInjector.Core.Policies;
using ConfigInjector.Hosting;
using ConfigInjector.Sync;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Fakes;
using k8s;
using Microsoft.Extensions.DependencyInjection;

namespace ConfigInjector.Tests.Sync;

/// <summary>
/// Every replica's admission cache follows the versions that managed Secrets record, but only those the install
/// signed: anyone who may create a labelled Secret could otherwise keep every replica's cache cold, so that each
/// admission costs a backend read. Seen on a follower (the leader's own rotations refresh its cache), by its
/// <c>configinjector_cache_hits_total</c>.
/// </summary>
public sealed class CacheInvalidatorTests : IAsyncLifetime
{
    private const string Ref = "vault-prod:secret/shop/db#password";
    private ClusterEnvironment _cluster = null!;
    private readonly ConcurrentQueue<string> _seen = new();

    public async Task InitializeAsync() => _cluster = await ClusterEnvironment.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Only_a_version_the_installs_signature_covers_makes_a_replica_read_again()
    {
        var a = await _cluster.StartReplicaAsync("replica-a", cacheTtl: "5m");
        var b = await _cluster.StartReplicaAsync("replica-b", cacheTtl: "5m");
        await Eventually.TrueAsync(() => a.Services.GetRequiredService<SyncWorker>().IsLeader || b.Services.GetRequiredService<SyncWorker>().IsLeader, "a leader");
        var follower = a.Services.GetRequiredService<SyncWorker>().IsLeader ? b : a;
        follower.Services.GetRequiredService<ManagedSecretWatch>().Informer.Changed += (_, secret) => _seen.Enqueue(secret.Metadata.Name);
        await CacheHitsOfAnAdmissionAsync(follower);
        Assert.Equal(1, await CacheHitsOfAnAdmissionAsync(follower));

        // The install's own Secret recording another version: the next admission reads the backend.
        await AddSecretAsync("configinjector-signed", SigningKey(), "2");
        Assert.Equal(0, await CacheHitsOfAnAdmissionAsync(follower));
        Assert.Equal(1, await CacheHitsOfAnAdmissionAsync(follower));

        // A Secret signed with another key claims yet another version: the cache does not believe it.
        await AddSecretAsync("configinjector-forged", new byte[32], "3");
        Assert.Equal(1, await CacheHitsOfAnAdmissionAsync(follower));

        // Nor a version on a Secret of the first release, whose signature covers refs but not versions (its tenant
        // may have edited them): the informer keeps it whole, only the cache invalidation can refuse its versions.
        await AddSecretAsync("configinjector-legacy", SigningKey(), "4", legacy: true);
        Assert.Equal(1, await CacheHitsOfAnAdmissionAsync(follower));
    }

    /// <summary>How many cache hits one dry-run admission of a pod reading <see cref="Ref"/> made on <paramref name="replica"/>.</summary>
    private static async Task<double> CacheHitsOfAnAdmissionAsync(WebhookServer replica)
    {
        var before = CacheHits(await replica.Client.GetStringAsync("/metrics"));
        var review = await replica.ReviewPodAsync(ClusterEnvironment.PodOf(("web-5d8f7c", "uid-web")).WithAnnotation("configinjector.io/secret.DB_PASSWORD", Ref), "shop", dryRun: true);
        Assert.True(review.Allowed, review.Message);
        return CacheHits(await replica.Client.GetStringAsync("/metrics")) - before;
    }

    private static double CacheHits(string metrics) => double.Parse(
        metrics.Split('\n').Single(l => l.StartsWith("configinjector_cache_hits_total ", StringComparison.Ordinal)).Split(' ')[1], CultureInfo.InvariantCulture);

    private byte[] SigningKey() => Convert.FromBase64String(
        _cluster.Api.Get("secrets", "config-injector", ReleaseNames.Default.SigningKey)!["data"]!["key"]!.GetValue<string>());

    /// <summary>A managed Secret signed with <paramref name="key"/> recording <paramref name="version"/> of the ref; returns once every replica's handlers have seen it.</summary>
    /// <param name="legacy">Signed as the first release signed: namespace, name, service account and key → ref, no owners annotation.</param>
    private async Task AddSecretAsync(string name, byte[] key, string version, bool legacy = false)
    {
        var secret = ManagedSecretFactory.Create(new ManagedSecretSpec(
            name, "shop", new Dictionary<string, string> { ["DB_PASSWORD"] = "x" },
            new Dictionary<string, KeySource> { ["DB_PASSWORD"] = new(Ref, version) },
            new RotationSettings(TimeSpan.FromHours(1), RotationMode.None), null, "default"), key);
        if (legacy)
        {
            secret.Metadata.Annotations.Remove(ManagedSecretFactory.OwnersAnnotation);
            secret.Metadata.Annotations[ManagedSecretFactory.SignatureAnnotation] = Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"v1\nshop\n{name}\ndefault\nDB_PASSWORD={Ref}")));
        }
        _cluster.Api.Put("secrets", JsonNode.Parse(KubernetesJson.Serialize(secret))!.AsObject());
        // Handlers are told of changes one at a time, in order: once ours hears of the next one, all have heard of this one.
        var marker = name + "-heard";
        _cluster.Api.Put("secrets", new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = marker, ["namespace"] = "shop", ["labels"] = new JsonObject { [ManagedSecretFactory.ManagedByLabel] = ManagedSecretFactory.ManagedByValue } },
        });
        await Eventually.TrueAsync(() => _seen.Contains(marker), $"the follower's informer to pass {name}");
    }
}
