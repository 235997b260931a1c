using System.Collections.Concurrent;
using ConfigInjector.Backends;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;
using ConfigInjector.Observability;
using ConfigInjector.TestSupport.Fakes;
using Microsoft.Extensions.Time.Testing;
using Prometheus;

namespace ConfigInjector.Tests.Backends;

/// <summary>
/// One namespace's admissions cannot starve another's (issue 18, finding 3): backend slots are shared fairly, reads
/// nobody waits for are dropped, and the cache evicts from whoever fills it.
/// </summary>
public class TenantFairnessTests
{
    /// <summary>A backend whose reads under "slow/" wait for a gate (honouring cancellation); everything else answers at once.</summary>
    private sealed class GatedBackend : ISecretBackend
    {
        public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public ConcurrentQueue<string> Started { get; } = [];
        public ConcurrentQueue<string> CancelledWhileReading { get; } = [];
        public bool Fail { get; set; }

        public string Name => "vault";

        public async ValueTask<SecretRead> ReadAsync(SecretLocation location, CancellationToken cancellationToken)
        {
            Started.Enqueue(location.Path);
            if (location.Path.StartsWith("slow/", StringComparison.Ordinal))
            {
                try
                {
                    await Gate.Task.WaitAsync(cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    CancelledWhileReading.Enqueue(location.Path);
                    throw;
                }
            }
            return Fail
                ? SecretRead.Failed(location, "sealed")
                : SecretRead.Found(location, new SecretDocument("1", new Dictionary<string, string> { ["k"] = "value-of-" + location.Path }));
        }
    }

    private static (SecretCache Cache, SecretReader Reader, GatedBackend Backend, FakeTimeProvider Time) Create(int capacity = 10_000, TimeSpan? readTimeout = null)
    {
        var backend = new GatedBackend();
        var metrics = new InjectorMetrics(Metrics.NewCustomRegistry());
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var reader = new SecretReader(new Dictionary<string, ISecretBackend> { ["vault"] = backend }, metrics, readTimeout ?? TimeSpan.FromMinutes(5));
        return (new SecretCache(reader, time, TimeSpan.FromMinutes(5), metrics, capacity), reader, backend, time);
    }

    private static List<SecretLocation> Paths(string prefix, int count) =>
        [.. Enumerable.Range(0, count).Select(i => new SecretLocation("vault", $"{prefix}{i}", null))];

    [Fact]
    public async Task A_namespace_with_hundreds_of_slow_reads_queued_leaves_room_for_another_namespace()
    {
        var (cache, reader, backend, _) = Create();
        // Four admissions of one namespace, 100 slow refs each: more reads than the backend has slots.
        var noisy = Enumerable.Range(0, 4).Select(a => cache.ReadAllAsync("noisy", Paths($"slow/a{a}/", 100), CancellationToken.None)).ToList();
        await Eventually.TrueAsync(() => reader.SlotsFor("vault")!.InUse >= SecretReader.ConcurrentReadsPerBackend / 2, "the noisy reads to take their slots");

        var quiet = await cache.ReadAsync(new SecretLocation("vault", "quiet/db", null), "quiet", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(ReadStatus.Found, quiet.Status);
        Assert.Equal(SecretReader.ConcurrentReadsPerBackend / 2, backend.Started.Count(p => p.StartsWith("slow/", StringComparison.Ordinal)));
        backend.Gate.SetResult();
        await Task.WhenAll(noisy);
    }

    [Fact]
    public async Task A_location_both_namespaces_read_is_read_in_the_turn_of_the_one_not_queueing()
    {
        var (cache, reader, backend, _) = Create();
        var noisy = Enumerable.Range(0, 4).Select(a => cache.ReadAllAsync("noisy", Paths($"slow/a{a}/", 100), CancellationToken.None)).ToList();
        await Eventually.TrueAsync(() => reader.SlotsFor("vault")!.InUse >= SecretReader.ConcurrentReadsPerBackend / 2, "the noisy reads to take their slots");
        // The noisy namespace asks for a shared path too: its read waits in the noisy queue, behind hundreds.
        var shared = new SecretLocation("vault", "shared/sentry", null);
        var noisyShared = cache.ReadAsync(shared, "noisy", CancellationToken.None);

        var quiet = await cache.ReadAsync(shared, "quiet", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal("value-of-shared/sentry", quiet.Document!.Data["k"]);
        Assert.Equal(quiet.Document, (await noisyShared.WaitAsync(TimeSpan.FromSeconds(10))).Document);
        backend.Gate.SetResult();
        await Task.WhenAll(noisy);
    }

    [Fact]
    public async Task A_read_every_waiter_gave_up_on_is_cancelled_and_frees_its_slot()
    {
        var (cache, reader, backend, _) = Create();
        using var first = new CancellationTokenSource();
        using var second = new CancellationTokenSource();
        var location = new SecretLocation("vault", "slow/one", null);
        var a = cache.ReadAsync(location, "team-a", first.Token);
        var b = cache.ReadAsync(location, "team-b", second.Token);
        await Eventually.TrueAsync(() => backend.Started.Contains("slow/one"), "the read to start");

        first.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => a);
        Assert.Empty(backend.CancelledWhileReading);
        second.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => b);

        await Eventually.TrueAsync(() => backend.CancelledWhileReading.Contains("slow/one"), "the backend read to be cancelled");
        await Eventually.TrueAsync(() => reader.SlotsFor("vault")!.InUse == 0, "its slot to be free");
        // An abandoned read is not an answer: the next reader asks the backend again instead of getting a held failure.
        backend.Gate.SetResult();
        var again = await cache.ReadAsync(location, "team-a", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(ReadStatus.Found, again.Status);
    }

    [Fact]
    public async Task A_namespace_filling_the_cache_does_not_evict_another_namespaces_last_known_good()
    {
        var (cache, _, backend, time) = Create(capacity: 100);
        var victim = new SecretLocation("vault", "payments/db", null);
        await cache.ReadAsync(victim, "payments", CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(1));

        // Another namespace reads ten times the cache's capacity of distinct locations.
        foreach (var batch in Paths("tenant-b/", 1_000).Chunk(50))
            await cache.ReadAllAsync("tenant-b", batch, CancellationToken.None);
        Assert.InRange(cache.Count, 1, 100);

        time.Advance(TimeSpan.FromMinutes(10));
        backend.Fail = true;
        var read = await cache.ReadAsync(victim, "payments", CancellationToken.None);

        Assert.Equal(ReadStatus.Failed, read.Status);
        Assert.Equal("value-of-payments/db", read.Document?.Data["k"]);
    }

    [Fact]
    public async Task All_reads_of_one_admission_share_one_timeout_however_many_wait_their_turn()
    {
        // 40 slow refs, 16 read at a time: each batch must not get a timeout of its own, or the webhook answers after
        // the API server gave up and onBackendError never applies.
        var (cache, _, backend, _) = Create(readTimeout: TimeSpan.FromMilliseconds(300));

        var reads = await cache.ReadAllAsync("team-a", Paths("slow/", 40), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.All(reads.Values, r => Assert.Equal("timed out after 0.3s", r.Reason));
        Assert.InRange(backend.Started.Count, SecretCache.ReadsPerAdmission, 2 * SecretCache.ReadsPerAdmission - 1);
    }
}
