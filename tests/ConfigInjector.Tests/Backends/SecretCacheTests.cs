using System.Collections.Concurrent;
using ConfigInjector.Backends;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;
using ConfigInjector.Observability;
using ConfigInjector.TestSupport.Fakes;
using Microsoft.Extensions.Time.Testing;
using Prometheus;

namespace ConfigInjector.Tests.Backends;

public class SecretCacheTests
{
    private static readonly SecretLocation Location = new("counting", "app/db", null);

    /// <summary>A backend that counts its calls, answers after a gate opens, and can be told to fail.</summary>
    private sealed class CountingBackend : ISecretBackend
    {
        public int Calls;
        public TaskCompletionSource Gate { get; set; } = CompletedGate();
        public bool Fail { get; set; }
        public string Value { get; set; } = "v1";
        public ConcurrentBag<SecretLocation> Seen { get; } = [];

        public string Name => "counting";

        public async ValueTask<SecretRead> ReadAsync(SecretLocation location, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Calls);
            Seen.Add(location);
            await Gate.Task;
            return Fail
                ? SecretRead.Failed(location, "backend unavailable")
                : SecretRead.Found(location, new SecretDocument(Value, new Dictionary<string, string> { ["password"] = Value }));
        }

        private static TaskCompletionSource CompletedGate()
        {
            var gate = new TaskCompletionSource();
            gate.SetResult();
            return gate;
        }
    }

    private static (SecretCache Cache, CountingBackend Backend, FakeTimeProvider Time) Create()
    {
        var backend = new CountingBackend();
        var metrics = new InjectorMetrics(Metrics.NewCustomRegistry());
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var reader = new SecretReader(new Dictionary<string, ISecretBackend> { ["counting"] = backend }, metrics, TimeSpan.FromSeconds(5));
        return (new SecretCache(reader, time, TimeSpan.FromMinutes(5), metrics), backend, time);
    }

    [Fact]
    public async Task A_thousand_concurrent_admissions_needing_one_ref_make_one_backend_call()
    {
        var (cache, backend, _) = Create();
        backend.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // Every reader has asked before the backend answers: none can be served from a cache filled by an earlier
        // one, so a single call means they were coalesced, on one thread and on many.
        var direct = Enumerable.Range(0, 500).Select(_ => cache.ReadAsync(Location, CancellationToken.None)).ToList();
        using var ready = new CountdownEvent(500);
        var threaded = Enumerable.Range(0, 500).Select(_ => Task.Run(() =>
        {
            var read = cache.ReadAsync(Location, CancellationToken.None);
            ready.Signal();
            return read;
        })).ToList();
        Assert.True(ready.Wait(TimeSpan.FromSeconds(30)), "the readers to ask");
        Assert.All(direct, r => Assert.False(r.IsCompleted));
        backend.Gate.SetResult();
        var results = await Task.WhenAll(direct.Concat(threaded));

        Assert.Equal(1, backend.Calls);
        Assert.All(results, r => Assert.Equal("v1", r.Document!.Data["password"]));
    }

    [Fact]
    public async Task A_fresh_entry_is_served_without_a_call_and_an_expired_one_is_refreshed_once()
    {
        var (cache, backend, time) = Create();
        await cache.ReadAsync(Location, CancellationToken.None);
        time.Advance(TimeSpan.FromMinutes(4));
        await cache.ReadAsync(Location, CancellationToken.None);
        Assert.Equal(1, backend.Calls);

        backend.Value = "v2";
        time.Advance(TimeSpan.FromMinutes(2));
        var refreshed = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => cache.ReadAsync(Location, CancellationToken.None)));

        Assert.Equal(2, backend.Calls);
        Assert.All(refreshed, r => Assert.Equal("v2", r.Document!.Version));
        // The 50 readers either shared the one refresh or found its result: none was a miss of its own.
        Assert.Equal(2, cache.Misses);
        Assert.InRange(cache.Hits, 1, 50);
    }

    [Fact]
    public async Task A_failing_backend_hands_back_the_last_known_good_value_with_its_age()
    {
        var (cache, backend, time) = Create();
        await cache.ReadAsync(Location, CancellationToken.None);
        backend.Fail = true;
        time.Advance(TimeSpan.FromMinutes(7));

        var read = await cache.ReadAsync(Location, CancellationToken.None);

        Assert.Equal(ReadStatus.Failed, read.Status);
        Assert.Equal("backend unavailable", read.Reason);
        Assert.Equal("v1", read.Document!.Data["password"]);
        Assert.Equal(TimeSpan.FromMinutes(7), read.StaleAge);

        backend.Fail = false;
        backend.Value = "v3";
        time.Advance(SecretCache.FailureHold);
        Assert.Equal("v3", (await cache.ReadAsync(Location, CancellationToken.None)).Document!.Version);
    }

    [Fact]
    public async Task During_an_outage_a_failure_is_answered_from_memory_for_a_few_seconds()
    {
        var (cache, backend, time) = Create();
        backend.Fail = true;

        await cache.ReadAsync(Location, CancellationToken.None);
        var again = await cache.ReadAsync(Location, CancellationToken.None);
        Assert.Equal(1, backend.Calls);
        Assert.Equal(ReadStatus.Failed, again.Status);

        time.Advance(SecretCache.FailureHold);
        await cache.ReadAsync(Location, CancellationToken.None);
        Assert.Equal(2, backend.Calls);
    }

    [Fact]
    public async Task A_refresh_from_the_sync_worker_replaces_a_cached_value_at_once()
    {
        var (cache, _, _) = Create();
        await cache.ReadAsync(Location, CancellationToken.None);

        cache.Refresh(SecretRead.Found(Location, new SecretDocument("v9", new Dictionary<string, string> { ["password"] = "rotated" })));

        Assert.Equal("rotated", (await cache.ReadAsync(Location, CancellationToken.None)).Document!.Data["password"]);
    }

    [Fact]
    public async Task Without_a_last_known_good_value_a_failure_stays_a_failure()
    {
        var (cache, backend, _) = Create();
        backend.Fail = true;

        var read = await cache.ReadAsync(Location, CancellationToken.None);

        Assert.Equal(ReadStatus.Failed, read.Status);
        Assert.Null(read.Document);
    }

    [Fact]
    public async Task Memory_is_bounded_by_the_capacity()
    {
        var backend = new CountingBackend();
        var metrics = new InjectorMetrics(Metrics.NewCustomRegistry());
        var reader = new SecretReader(new Dictionary<string, ISecretBackend> { ["counting"] = backend }, metrics, TimeSpan.FromSeconds(5));
        var cache = new SecretCache(reader, new FakeTimeProvider(), TimeSpan.FromMinutes(5), metrics, capacity: 100);

        for (var i = 0; i < 1000; i++)
            await cache.ReadAsync(new SecretLocation("counting", $"app/{i}", null), CancellationToken.None);

        Assert.InRange(cache.Count, 1, 100);
    }
    [Fact]
    public async Task A_version_claimed_elsewhere_makes_the_entry_due_for_a_read_but_keeps_it_as_last_known_good()
    {
        var (cache, backend, time) = Create();
        await cache.ReadAsync(Location, CancellationToken.None);

        // A signed Secret (a replayed one, say) records a version this replica does not hold.
        Assert.True(cache.MarkStaleIfNot(Location, "v0"));
        Assert.False(cache.MarkStaleIfNot(Location, "v0"));
        backend.Fail = true;
        var during = await cache.ReadAsync(Location, CancellationToken.None);
        backend.Fail = false;
        backend.Value = "v2";
        time.Advance(SecretCache.FailureHold);
        var after = await cache.ReadAsync(Location, CancellationToken.None);

        Assert.Equal(3, backend.Calls);     // the first read, the one the mark made due (failed), the one after the hold
        Assert.Equal((ReadStatus.Failed, "v1"), (during.Status, during.Document?.Data["password"]));
        Assert.Equal((ReadStatus.Found, "v2"), (after.Status, after.Document!.Data["password"]));
        Assert.False(cache.MarkStaleIfNot(Location, "v2"));
    }
}

public class SecretCacheHardeningTests
{
    private static readonly SecretLocation Location = new("gated", "app/db", null);

    /// <summary>Answers each call from a queue of gates, so a test decides when each read finishes.</summary>
    private sealed class GatedBackend : ISecretBackend
    {
        private int _inFlight;
        public int Calls;
        public int MaxInFlight;
        public Func<SecretLocation, SecretRead> Answer { get; set; } = l => SecretRead.Found(l, new SecretDocument("1", new Dictionary<string, string> { ["v"] = "old" }));
        public TaskCompletionSource Gate { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Name => "gated";

        public async ValueTask<SecretRead> ReadAsync(SecretLocation location, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Calls);
            var now = Interlocked.Increment(ref _inFlight);
            InterlockedMax(ref MaxInFlight, now);
            var answer = Answer(location);
            await Gate.Task;
            Interlocked.Decrement(ref _inFlight);
            return answer;
        }

        private static void InterlockedMax(ref int target, int value)
        {
            int seen;
            while ((seen = target) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
            {
            }
        }
    }

    private static (SecretCache Cache, GatedBackend Backend, FakeTimeProvider Time) Create()
    {
        var backend = new GatedBackend();
        var metrics = new InjectorMetrics(Metrics.NewCustomRegistry());
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var reader = new SecretReader(new Dictionary<string, ISecretBackend> { ["gated"] = backend }, metrics, TimeSpan.FromSeconds(30));
        return (new SecretCache(reader, time, TimeSpan.FromMinutes(5), metrics), backend, time);
    }

    [Fact]
    public async Task A_read_that_started_before_a_rotation_does_not_put_the_old_value_back()
    {
        // The clock does not move: a coarse clock shows the read's start and the rotation as one moment.
        var (cache, backend, _) = Create();
        var slow = cache.ReadAsync(Location, CancellationToken.None);

        cache.Refresh(SecretRead.Found(Location, new SecretDocument("2", new Dictionary<string, string> { ["v"] = "rotated" })));
        backend.Gate.SetResult();
        await slow;

        Assert.Equal("rotated", (await cache.ReadAsync(Location, CancellationToken.None)).Document!.Data["v"]);
        Assert.Equal(1, backend.Calls);
    }

    [Fact]
    public async Task A_not_found_answer_is_held_briefly_then_asked_again()
    {
        var (cache, backend, time) = Create();
        backend.Gate.SetResult();
        backend.Answer = l => SecretRead.NotFound(l, "no secret at app/db");

        var first = await cache.ReadAsync(Location, CancellationToken.None);
        var held = await cache.ReadAsync(Location, CancellationToken.None);
        time.Advance(SecretCache.FailureHold);
        var later = await cache.ReadAsync(Location, CancellationToken.None);

        Assert.Equal((ReadStatus.NotFound, ReadStatus.NotFound, ReadStatus.NotFound), (first.Status, held.Status, later.Status));
        Assert.Equal(2, backend.Calls);
    }

    [Fact]
    public async Task One_admission_with_a_thousand_refs_reads_a_bounded_number_at_once()
    {
        var (cache, backend, _) = Create();
        var locations = Enumerable.Range(0, 1000).Select(i => new SecretLocation("gated", $"app/s{i}", null)).ToList();

        var all = cache.ReadAllAsync("default", locations, CancellationToken.None);
        await Eventually.TrueAsync(() => Volatile.Read(ref backend.Calls) >= SecretCache.ReadsPerAdmission, "the first reads");
        var startedBeforeRelease = Volatile.Read(ref backend.Calls);
        backend.Gate.SetResult();
        await all;

        Assert.Equal(SecretCache.ReadsPerAdmission, startedBeforeRelease);
        Assert.Equal(SecretCache.ReadsPerAdmission, backend.MaxInFlight);
        Assert.Equal(1000, backend.Calls);
    }

}
