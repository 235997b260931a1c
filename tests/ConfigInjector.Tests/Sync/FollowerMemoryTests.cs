using ConfigInjector.Sync;
using ConfigInjector.TestSupport.Fakes;
using Microsoft.Extensions.Logging.Abstractions;

namespace ConfigInjector.Tests.Sync;

/// <summary>Runs alone: it measures this process's managed heap, which tests running beside it would blur.</summary>
[CollectionDefinition(nameof(FollowerMemoryTests), DisableParallelization = true)]
public sealed class MeasuresFollowerMemory;

/// <summary>
/// Memory that does not grow with the cluster (issue 24): every replica watches the managed Secrets so its admission
/// cache follows rotations, but only the leader keeps them. A follower is told of every change and holds nothing per
/// Secret; a replica that starts leading lists them again and keeps them; one that stops leading lets them go.
/// </summary>
[Collection(nameof(FollowerMemoryTests))]
public sealed class FollowerMemoryTests : IAsyncLifetime
{
    private const int Secrets = 2_000;

    private SyncHarness _sync = null!;

    public async Task InitializeAsync() => _sync = await SyncHarness.StartAsync();

    public async Task DisposeAsync() => await _sync.DisposeAsync();

    [Fact]
    public async Task A_follower_is_told_of_every_managed_secret_and_keeps_none_the_leader_keeps_them_all()
    {
        for (var i = 0; i < Secrets; i++)
            _sync.AddManaged($"team-{i % 10}", $"configinjector-app-{i:D5}", "default", "TOKEN", "vault:secret/app/token#value", $"value-{i}");

        var (told, kept, held) = await FollowAndWeighAsync();

        Assert.Equal(Secrets, told);
        Assert.Equal(0, kept);
        Assert.True(held / Secrets < 100, $"a follower holds {held / Secrets} bytes per managed Secret");

        var watch = await LeadAsync();
        try
        {
            // Kept as a digest of each value, never the value: a pass reads the Secret whole only when one differs.
            var leaders = Assert.IsType<KeptSecret>(watch.Informer.Get("team-3", "configinjector-app-00003"));
            Assert.Null(leaders.Data);
            Assert.True(leaders.Held.Holds("TOKEN", "value-3"));
            Assert.False(leaders.Held.Holds("TOKEN", "value-4"));
            var changed = "configinjector-app-00007";
            _sync.Api.Update("secrets", "team-7", changed, s => s["metadata"]!["labels"]!["touched"] = "yes");
            await Eventually.TrueAsync(() => watch.Informer.Get("team-7", changed)?.Metadata.Labels?.ContainsKey("touched") == true, "the leader's store to follow the watch");

            watch.Informer.StopRetaining();
            Assert.Empty(watch.Informer.Items);
            Assert.Null(watch.Informer.Get("team-3", "configinjector-app-00003"));
        }
        finally
        {
            await watch.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task The_leader_keeps_a_few_hundred_bytes_per_managed_secret_not_the_secret()
    {
        for (var i = 0; i < Secrets; i++)
        {
            _sync.AddManaged($"team-{i % 10}", $"configinjector-app-{i:D5}", "default", "TOKEN", "vault:secret/app/token#value", $"value-{i}",
                owner: new k8s.Models.V1OwnerReference { ApiVersion = "apps/v1", Kind = "ReplicaSet", Name = $"app-{i:D5}-7d9f8c6b5", Uid = Guid.NewGuid().ToString(), Controller = true });
        }
        var watch = await LeadAsync();
        try
        {
            // What the store holds, weighed as the difference between holding it and letting it go, two collections
            // apart: anything else in the process (another test's host winding down) stays out of the figure.
            var retaining = Weigh();
            watch.Informer.StopRetaining();
            var perSecret = (retaining - Weigh()) / Secrets;
            // Kept whole (with its signature, signed owners, owner references and values) each held about 2,000 bytes
            // here; kept as identity, shared annotations and digests, about 600.
            Assert.True(perSecret < 1_000, $"the leader holds {perSecret} bytes per managed Secret");
        }
        finally
        {
            await watch.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>A watch of a replica that starts leading: it lists again and keeps what it lists and watches.</summary>
    private async Task<ManagedSecretWatch> LeadAsync()
    {
        var watch = new ManagedSecretWatch(_sync.Cluster, _sync.Keys, SyncSettings.Default, TimeProvider.System, NullLogger<ManagedSecretWatch>.Instance);
        await watch.StartAsync(CancellationToken.None);
        watch.Informer.StartRetaining();
        await watch.Informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(Secrets, watch.Informer.Items.Count);
        return watch;
    }

    /// <summary>A follower's watch: how many Secrets its listeners were told of whole, how many it kept, and the heap it held.</summary>
    private async Task<(int Told, int Kept, long Held)> FollowAndWeighAsync()
    {
        var told = 0;
        var watch = new ManagedSecretWatch(_sync.Cluster, _sync.Keys, SyncSettings.Default, TimeProvider.System, NullLogger<ManagedSecretWatch>.Instance);
        // Every Secret arrives whole and verified (the cache invalidation reads its signed versions).
        watch.Informer.Changed += (_, secret) =>
        {
            if (secret.Data is not null)
                Interlocked.Increment(ref told);
        };
        await watch.StartAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => Volatile.Read(ref told) == Secrets, "every managed Secret told to the follower's listeners", TimeSpan.FromMinutes(1));
        var kept = watch.Informer.Items.Count;
        var withWatch = GC.GetTotalMemory(forceFullCollection: true);
        await watch.StopAsync(CancellationToken.None);
        GC.KeepAlive(watch);
        watch = null;
        return (told, kept, withWatch - Weigh());
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static long Weigh() => GC.GetTotalMemory(forceFullCollection: true);
}
