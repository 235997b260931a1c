using System.Text.Json.Nodes;
using ConfigInjector.Sync;
using k8s;
using Microsoft.Extensions.Logging.Abstractions;

namespace ConfigInjector.Tests.Sync;

/// <summary>Runs alone: it measures this process's managed heap, which tests running beside it would blur.</summary>
[CollectionDefinition(nameof(ForgedSecretMemoryTests), DisableParallelization = true)]
public sealed class MeasuresMemory;

/// <summary>
/// Memory does not grow with what tenants label (issue 18, finding 2): anyone who may create a Secret can give it the
/// managed-by label, up to 1 MiB of data and 256 KiB of annotations. Every replica lists and watches those Secrets.
/// </summary>
[Collection(nameof(ForgedSecretMemoryTests))]
public sealed class ForgedSecretMemoryTests : IAsyncLifetime
{
    private const int Forged = 1_000;

    /// <summary>The chart's memory request for a replica (charts/config-injector/values.yaml, resources.requests.memory).</summary>
    private const long ChartMemoryRequest = 96L * 1024 * 1024;

    private SyncHarness _sync = null!;

    public async Task InitializeAsync() => _sync = await SyncHarness.StartAsync();

    public async Task DisposeAsync() => await _sync.DisposeAsync();

    [Fact]
    public async Task A_thousand_maximal_forged_secrets_cost_a_few_hundred_bytes_each_and_no_page_is_held_whole()
    {
        // One string of each kind, shared by every stored object: the fake holds 1,000 maximal Secrets in a few MiB,
        // while each travels whole over the wire (1.6 GB in all).
        var data = JsonValue.Create(Convert.ToBase64String(new byte[1_000_000]));
        var note = JsonValue.Create(new string('n', 250 * 1024));
        for (var i = 0; i < Forged; i++)
        {
            _sync.Api.Put("secrets", new JsonObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = "Secret",
                ["metadata"] = new JsonObject
                {
                    ["name"] = $"forged-{i:D4}",
                    ["namespace"] = $"tenant-{i % 5}",
                    ["labels"] = new JsonObject { ["app.kubernetes.io/managed-by"] = "config-injector" },
                    ["annotations"] = new JsonObject { ["configinjector.io/sources"] = note.DeepClone() },
                },
                ["data"] = new JsonObject { ["blob"] = data.DeepClone() },
            });
        }
        var before = GC.GetTotalMemory(forceFullCollection: true);
        using var stop = new CancellationTokenSource();
        var peak = before;
        var sampling = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                // Live objects only: what a collection cannot take back is what a page held whole would be. Garbage
                // is the GC's to reclaim, and under a container's limit it does so before the limit is reached.
                peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true));
                await Task.Delay(20);
            }
        });

        var (count, largest, held) = await ListAndWeighAsync();
        await stop.CancelAsync();
        await sampling;

        Assert.Equal(Forged, count);
        Assert.True(largest < 400, $"a forged Secret is kept as {largest} bytes of JSON");
        Assert.True(held < 1024 * 1024, $"the informer holds {held / 1024} KiB for {Forged} forged Secrets");
        Assert.True(peak - before < ChartMemoryRequest / 2, $"listing them held {(peak - before) / 1024 / 1024} MiB of live objects at once");
    }

    /// <summary>Lists through a replica's informer; what it holds is the heap with it minus the heap once it is gone.</summary>
    private async Task<(int Count, int Largest, long Held)> ListAndWeighAsync()
    {
        var watch = new ManagedSecretWatch(_sync.Cluster, _sync.Keys, SyncSettings.Default, TimeProvider.System, NullLogger<ManagedSecretWatch>.Instance);
        // As the leader keeps them (a follower keeps nothing at all).
        watch.Informer.StartRetaining();
        await watch.StartAsync(CancellationToken.None);
        await watch.Informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(2));
        await watch.StopAsync(CancellationToken.None);
        var count = watch.Informer.Items.Count;
        var largest = watch.Informer.Items.Max(s => KubernetesJson.Serialize(s).Length);
        var withInformer = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(watch);
        watch = null;
        return (count, largest, withInformer - Weigh());
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static long Weigh() => GC.GetTotalMemory(forceFullCollection: true);
}
