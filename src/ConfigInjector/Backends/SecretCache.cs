using System.Collections.Concurrent;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;
using ConfigInjector.Observability;

namespace ConfigInjector.Backends;

/// <summary>
/// The shared cache in front of every backend: one backend call per unique location per TTL, concurrent
/// requests for the same location coalesced into one call, and the last-known-good document (with its age)
/// handed back when a read fails. Bounded: past <c>capacity</c> entries the oldest are evicted.
/// </summary>
public sealed class SecretCache(SecretReader reader, TimeProvider time, TimeSpan ttl, InjectorMetrics metrics, int capacity = 10_000)
{
    private sealed record Entry(SecretDocument Document, DateTimeOffset FetchedAt);

    /// <summary>How long a failed read is answered from memory: during an outage admissions fail fast (or go stale) instead of each waiting for the timeout.</summary>
    public static readonly TimeSpan FailureHold = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<SecretLocation, Entry> _entries = new();
    private readonly ConcurrentDictionary<SecretLocation, Lazy<Task<SecretRead>>> _inFlight = new();
    private readonly ConcurrentDictionary<SecretLocation, (SecretRead Read, DateTimeOffset At)> _failures = new();
    private long _hits;
    private long _misses;
    private long _errors;

    public long Hits => Interlocked.Read(ref _hits);
    public long Misses => Interlocked.Read(ref _misses);
    public long Errors => Interlocked.Read(ref _errors);
    public int Count => _entries.Count;

    public async Task<IReadOnlyDictionary<SecretLocation, SecretRead>> ReadAllAsync(IReadOnlyList<SecretLocation> locations, CancellationToken cancellationToken)
    {
        var reads = await Task.WhenAll(locations.Select(l => ReadAsync(l, cancellationToken)));
        return reads.ToDictionary(r => r.Location);
    }

    public Task<SecretRead> ReadAsync(SecretLocation location, CancellationToken cancellationToken)
    {
        if (_entries.TryGetValue(location, out var entry) && time.GetUtcNow() - entry.FetchedAt < ttl)
        {
            Interlocked.Increment(ref _hits);
            metrics.CacheHits.Inc();
            return Task.FromResult(SecretRead.Found(location, entry.Document));
        }
        if (_failures.TryGetValue(location, out var failure) && time.GetUtcNow() - failure.At < FailureHold)
            return Task.FromResult(WithLastKnownGood(failure.Read));
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
        try
        {
            var read = await reader.ReadAsync(location, CancellationToken.None);
            switch (read.Status)
            {
                case ReadStatus.Found:
                    _entries[location] = new Entry(read.Document!, time.GetUtcNow());
                    _failures.TryRemove(location, out _);
                    EvictIfFull();
                    return read;
                case ReadStatus.NotFound:
                    _entries.TryRemove(location, out _);
                    _failures.TryRemove(location, out _);
                    return read;
                default:
                    Interlocked.Increment(ref _errors);
                    _failures[location] = (read, time.GetUtcNow());
                    return WithLastKnownGood(read);
            }
        }
        finally
        {
            _inFlight.TryRemove(location, out _);
        }
    }

    /// <summary>Drops a cached location whose version is not <paramref name="version"/>; true when something was dropped.</summary>
    public bool InvalidateIfNot(SecretLocation location, string version) =>
        _entries.TryGetValue(location, out var entry) && entry.Document.Version != version &&
        _entries.TryRemove(KeyValuePair.Create(location, entry));

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
