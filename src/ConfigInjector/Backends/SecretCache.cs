using System.Collections.Concurrent;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;
using ConfigInjector.Observability;

namespace ConfigInjector.Backends;

/// <summary>
/// The shared cache in front of every backend: one backend call per unique location per TTL, concurrent
/// requests for the same location coalesced into one call, and the last-known-good document (with its age)
/// handed back when a read fails. Bounded: past <c>capacity</c> entries the oldest are evicted. An entry marked stale
/// (<see cref="MarkStaleIfNot"/>) is read again by the next caller but stays the last-known-good until a read replaces it.
/// </summary>
internal sealed class SecretCache(SecretReader reader, TimeProvider time, TimeSpan ttl, InjectorMetrics metrics, int capacity = 10_000)
{
    private sealed record Entry(SecretDocument Document, DateTimeOffset FetchedAt, bool Stale = false);

    /// <summary>How long a failed read is answered from memory: during an outage admissions fail fast (or go stale) instead of each waiting for the timeout.</summary>
    public static readonly TimeSpan FailureHold = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<SecretLocation, Entry> _entries = new();
    private readonly ConcurrentDictionary<SecretLocation, Lazy<Task<SecretRead>>> _inFlight = new();
    private readonly ConcurrentDictionary<SecretLocation, (SecretRead Read, DateTimeOffset At)> _failures = new();

    /// <summary>How many locations one admission reads at once: a pod with a thousand refs must not fire a thousand requests.</summary>
    public const int ReadsPerAdmission = 16;
    private long _hits;
    private long _misses;

    public long Hits => Interlocked.Read(ref _hits);
    public long Misses => Interlocked.Read(ref _misses);
    public int Count => _entries.Count;

    public async Task<IReadOnlyDictionary<SecretLocation, SecretRead>> ReadAllAsync(IReadOnlyList<SecretLocation> locations, CancellationToken cancellationToken)
    {
        using var slots = new SemaphoreSlim(ReadsPerAdmission);
        var reads = await Task.WhenAll(locations.Select(async l =>
        {
            await slots.WaitAsync(cancellationToken);
            try
            {
                return await ReadAsync(l, cancellationToken);
            }
            finally
            {
                slots.Release();
            }
        }));
        return reads.ToDictionary(r => r.Location);
    }

    public Task<SecretRead> ReadAsync(SecretLocation location, CancellationToken cancellationToken)
    {
        if (_entries.TryGetValue(location, out var entry) && !entry.Stale && time.GetUtcNow() - entry.FetchedAt < ttl)
        {
            Interlocked.Increment(ref _hits);
            metrics.CacheHits.Inc();
            return Task.FromResult(SecretRead.Found(location, entry.Document));
        }
        // Failures and not-found answers are held briefly too: a pod stuck in a crash loop on a missing ref, or an
        // outage, costs the backend one call per few seconds, not one per admission.
        if (_failures.TryGetValue(location, out var failure) && time.GetUtcNow() - failure.At < FailureHold)
            return Task.FromResult(failure.Read.Status == ReadStatus.NotFound ? failure.Read : WithLastKnownGood(failure.Read));
        // Callers share one fetch; each may stop waiting on its own token without cancelling the others'.
        var fetch = _inFlight.GetOrAdd(location, l => new Lazy<Task<SecretRead>>(() => FetchAsync(l)));
        return fetch.Value.WaitAsync(cancellationToken);
    }

    /// <summary>Takes in a fresh read made elsewhere (the sync worker's pass), so admissions in this replica see rotated values at once.</summary>
    public void Refresh(SecretRead read)
    {
        if (read.Status != ReadStatus.Found)
            return;
        _entries[read.Location] = new Entry(read.Document!, time.GetUtcNow());
        _failures.TryRemove(read.Location, out _);
    }

    private async Task<SecretRead> FetchAsync(SecretLocation location)
    {
        Interlocked.Increment(ref _misses);
        metrics.CacheMisses.Inc();
        var started = time.GetUtcNow();
        try
        {
            var read = await reader.ReadAsync(location, CancellationToken.None);
            switch (read.Status)
            {
                case ReadStatus.Found:
                    // A fresher document may have arrived while this read was under way (the sync worker's Refresh
                    // after a rotation): an older read never puts the previous value back.
                    var stored = _entries.AddOrUpdate(location, new Entry(read.Document!, time.GetUtcNow()),
                        (_, existing) => existing.FetchedAt > started ? existing : new Entry(read.Document!, time.GetUtcNow()));
                    _failures.TryRemove(location, out _);
                    EvictIfFull();
                    return SecretRead.Found(location, stored.Document);
                case ReadStatus.NotFound:
                    _entries.TryRemove(location, out _);
                    Hold(location, read);
                    return read;
                default:
                    Hold(location, read);
                    return WithLastKnownGood(read);
            }
        }
        finally
        {
            _inFlight.TryRemove(location, out _);
        }
    }

    private void Hold(SecretLocation location, SecretRead read)
    {
        if (_failures.Count >= capacity)
            _failures.Clear();
        _failures[location] = (read, time.GetUtcNow());
    }

    /// <summary>
    /// Makes a cached location whose version is not <paramref name="version"/> due for a read; true when it was. The
    /// document is kept: whoever claims a newer version can cost one backend read, never anyone's last-known-good.
    /// </summary>
    public bool MarkStaleIfNot(SecretLocation location, string version) =>
        _entries.TryGetValue(location, out var entry) && !entry.Stale && entry.Document.Version != version &&
        _entries.TryUpdate(location, entry with { Stale = true }, entry);

    private SecretRead WithLastKnownGood(SecretRead failure) =>
        _entries.TryGetValue(failure.Location, out var lastKnownGood)
            ? SecretRead.Failed(failure.Location, failure.Reason!, lastKnownGood.Document, time.GetUtcNow() - lastKnownGood.FetchedAt)
            : failure;

    private void EvictIfFull()
    {
        if (_entries.Count <= capacity)
            return;
        // Evict the oldest tenth in one go so a full cache does not sort on every insert.
        foreach (var old in _entries.OrderBy(e => e.Value.FetchedAt).Take(Math.Max(1, capacity / 10)).ToList())
            _entries.TryRemove(old.Key, out _);
    }
}
