using System.Collections.Concurrent;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;
using ConfigInjector.Observability;

namespace ConfigInjector.Backends;

/// <summary>
/// The shared cache in front of every backend: one backend call per unique location per TTL, concurrent
/// requests for the same location coalesced into one call, and the last-known-good document (with its age)
/// handed back when a read fails. Shared by tenants (namespaces) without letting one hurt another: a read waits for a
/// backend slot in the queue of every tenant that waits for it, is abandoned when all of them gave up, and past
/// <c>capacity</c> entries the cache evicts from the tenant that uses the most, so one tenant's flood of locations
/// never pushes out another's last-known-good values. Every map is keyed by <see cref="ReadKey"/>: under
/// <c>identity: pod</c> the same location read as two service accounts is two entries, two fetches and two
/// last-known-good values, so no value crosses identities.
/// </summary>
internal sealed class SecretCache(SecretReader reader, TimeProvider time, TimeSpan ttl, InjectorMetrics metrics, int capacity = 10_000)
{
    private sealed class Entry(SecretDocument document, DateTimeOffset fetchedAt, long written)
    {
        public SecretDocument Document { get; } = document;
        public DateTimeOffset FetchedAt { get; } = fetchedAt;

        /// <summary>When it was stored, on the cache's own counter: a clock can show two moments as one.</summary>
        public long Written { get; } = written;

        /// <summary>The tenants that read it (guarded by the cache's accounting lock), at most <see cref="MaxUsersTracked"/>.</summary>
        public HashSet<string> Users { get; } = new(StringComparer.Ordinal);

        /// <summary>
        /// Set when a signed managed Secret records another version (<see cref="MarkStaleIfNot"/>): read again by the
        /// next caller, but kept as the last-known-good until a read replaces it.
        /// </summary>
        public bool Stale { get; set; }
    }

    /// <summary>Past this many tenants an entry is widely shared: no one tenant's use of the cache can evict it.</summary>
    private const int MaxUsersTracked = 16;

    /// <summary>How long a failed read is answered from memory: during an outage admissions fail fast (or go stale) instead of each waiting for the timeout.</summary>
    public static readonly TimeSpan FailureHold = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<ReadKey, Entry> _entries = new();
    private readonly ConcurrentDictionary<ReadKey, Lazy<Fetch>> _inFlight = new();
    private readonly ConcurrentDictionary<ReadKey, (SecretRead Read, DateTimeOffset At)> _failures = new();
    private readonly object _accounting = new();
    private readonly Dictionary<string, int> _entriesUsed = new(StringComparer.Ordinal);

    /// <summary>How many locations one admission reads at once: a pod with a thousand refs must not fire a thousand requests.</summary>
    public const int ReadsPerAdmission = 16;
    private long _hits;
    private long _misses;
    private long _writes;

    public long Hits => Interlocked.Read(ref _hits);
    public long Misses => Interlocked.Read(ref _misses);
    public int Count => _entries.Count;

    private SecretReader Reader => reader;

    /// <summary>
    /// Every location one admission needs, 16 at a time, all within one read timeout from the start: a pod with many
    /// refs on a slow backend gets its answers (timed out, with any last-known-good) while the webhook can still answer,
    /// so <c>onBackendError: allow-stale | skip</c> apply instead of the API server giving up on the webhook.
    /// </summary>
    public Task<IReadOnlyDictionary<SecretLocation, SecretRead>> ReadAllAsync(string tenant, IReadOnlyList<SecretLocation> locations, CancellationToken cancellationToken) =>
        ReadAllAsync(tenant, locations, l => new ReadKey(l, null), cancellationToken);

    /// <summary>Every location a pod needs, read as <paramref name="pod"/>'s service account where a backend has <c>identity: pod</c>.</summary>
    public Task<IReadOnlyDictionary<SecretLocation, SecretRead>> ReadAllAsync(Subject pod, IReadOnlyList<SecretLocation> locations, CancellationToken cancellationToken) =>
        ReadAllAsync(pod.Namespace, locations, l => reader.KeyFor(l, pod), cancellationToken);

    private async Task<IReadOnlyDictionary<SecretLocation, SecretRead>> ReadAllAsync(string tenant, IReadOnlyList<SecretLocation> locations, Func<SecretLocation, ReadKey> key, CancellationToken cancellationToken)
    {
        using var slots = new SemaphoreSlim(ReadsPerAdmission);
        using var budget = new CancellationTokenSource(reader.Timeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, budget.Token);
        var reads = await Task.WhenAll(locations.Select(async l =>
        {
            try
            {
                await slots.WaitAsync(linked.Token);
                try
                {
                    linked.Token.ThrowIfCancellationRequested();
                    return await ReadAsync(key(l), tenant, linked.Token);
                }
                finally
                {
                    slots.Release();
                }
            }
            catch (OperationCanceledException) when (budget.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                return WithLastKnownGood(key(l), SecretRead.Failed(l, $"timed out after {reader.Timeout.TotalSeconds:0.#}s"));
            }
        }));
        return reads.ToDictionary(r => r.Location);
    }

    public Task<SecretRead> ReadAsync(SecretLocation location, CancellationToken cancellationToken) =>
        ReadAsync(location, SecretReader.System, cancellationToken);

    public Task<SecretRead> ReadAsync(SecretLocation location, string tenant, CancellationToken cancellationToken) =>
        ReadAsync(new ReadKey(location, null), tenant, cancellationToken);

    /// <summary>One location read as <paramref name="pod"/>'s service account where its backend has <c>identity: pod</c>.</summary>
    public Task<SecretRead> ReadAsync(SecretLocation location, Subject pod, CancellationToken cancellationToken) =>
        ReadAsync(reader.KeyFor(location, pod), pod.Namespace, cancellationToken);

    private async Task<SecretRead> ReadAsync(ReadKey key, string tenant, CancellationToken cancellationToken)
    {
        var location = key.Location;
        if (_entries.TryGetValue(key, out var entry) && !entry.Stale && time.GetUtcNow() - entry.FetchedAt < ttl)
        {
            Interlocked.Increment(ref _hits);
            metrics.CacheHits.Inc();
            Use(entry, tenant);
            return SecretRead.Found(location, entry.Document);
        }
        // Failures and not-found answers are held briefly too: a pod stuck in a crash loop on a missing ref, or an
        // outage, costs the backend one call per few seconds, not one per admission.
        if (_failures.TryGetValue(key, out var failure) && time.GetUtcNow() - failure.At < FailureHold)
            return failure.Read.Status is ReadStatus.NotFound or ReadStatus.Refused ? failure.Read : WithLastKnownGood(key, failure.Read);
        while (true)
        {
            // Callers share one fetch; each may stop waiting on its own token, and the last one to go abandons it.
            var lazy = _inFlight.GetOrAdd(key, k => new Lazy<Fetch>(() => new Fetch(k, this)));
            var fetch = lazy.Value;
            if (!fetch.TryJoin(tenant))
            {
                _inFlight.TryRemove(KeyValuePair.Create(key, lazy));
                continue;
            }
            try
            {
                var read = await fetch.Start(lazy).WaitAsync(cancellationToken);
                if (read.Status == ReadStatus.Found && _entries.TryGetValue(key, out var stored))
                    Use(stored, tenant);
                return read;
            }
            finally
            {
                fetch.Leave();
            }
        }
    }

    /// <summary>Takes in a fresh read made elsewhere (the sync worker's pass), so admissions in this replica see rotated values at once.</summary>
    /// <param name="readAs">Whose service account the sync worker read it as (it matters only for <c>identity: pod</c> backends).</param>
    public void Refresh(SecretRead read, Subject? readAs = null)
    {
        if (read.Status != ReadStatus.Found)
            return;
        var key = reader.KeyFor(read.Location, readAs);
        var fresh = new Entry(read.Document!, time.GetUtcNow(), Interlocked.Increment(ref _writes));
        _entries.AddOrUpdate(key, fresh, (_, existing) =>
        {
            lock (_accounting)
                fresh.Users.UnionWith(existing.Users);
            return fresh;
        });
        _failures.TryRemove(key, out _);
        EvictIfFull();
    }

    private async Task<SecretRead> FetchAsync(ReadKey key, Fetch fetch, Lazy<Fetch> entry)
    {
        var location = key.Location;
        // Taken before the yield, while the caller that started it still holds the fetch's lock: anything stored
        // after this point is at least as fresh as what this read returns.
        var started = Interlocked.Read(ref _writes);
        // The first waiter starts it under the fetch's lock: the work runs outside that lock.
        await Task.Yield();
        Interlocked.Increment(ref _misses);
        metrics.CacheMisses.Inc();
        try
        {
            var read = await reader.ReadAsync(key, (_, token) => fetch.SlotAsync(token), fetch.Abandoned);
            switch (read.Status)
            {
                case ReadStatus.Found:
                    // A fresher document may have arrived while this read was under way (the sync worker's Refresh
                    // after a rotation): an older read never puts the previous value back.
                    var stored = _entries.AddOrUpdate(key, _ => Stored(read.Document!),
                        (_, existing) => existing.Written > started ? existing : Stored(read.Document!));
                    _failures.TryRemove(key, out _);
                    EvictIfFull();
                    return SecretRead.Found(location, stored.Document);
                case ReadStatus.NotFound:
                case ReadStatus.Refused:
                    // The vault's answer: whatever this identity read before is no last-known-good any more.
                    if (_entries.TryRemove(key, out var gone))
                        Forget(gone);
                    Hold(key, read);
                    return read;
                default:
                    Hold(key, read);
                    return WithLastKnownGood(key, read);
            }
        }
        catch (OperationCanceledException) when (fetch.Abandoned.IsCancellationRequested)
        {
            // Nobody waits for it any more: not an answer of the backend, so nothing is held or cached.
            return SecretRead.Failed(location, "abandoned: every admission waiting for it gave up");
        }
        finally
        {
            fetch.Close();
            _inFlight.TryRemove(KeyValuePair.Create(key, entry));
        }
    }

    /// <summary>
    /// One read in flight and who waits for it. It asks for a backend slot in the queue of each waiting tenant and
    /// uses the first granted, so a tenant that queued many reads cannot hold back another's read of a shared location.
    /// </summary>
    // Its token sources hold no timer or registration, so nothing leaks without a Dispose, and a late Leave may still cancel.
#pragma warning disable CA1001
    private sealed class Fetch
#pragma warning restore CA1001
    {
        private readonly SecretCache _cache;
        private readonly ReadKey _key;
        private readonly CancellationTokenSource _abandon = new();
        private readonly CancellationTokenSource _stopAsking = new();
        private readonly TaskCompletionSource<IDisposable> _slot = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly HashSet<string> _tenants = new(StringComparer.Ordinal);
        private int _waiters;
        private bool _closed;

        private Task<SecretRead>? _result;

        public Fetch(ReadKey key, SecretCache cache)
        {
            _cache = cache;
            _key = key;
        }

        /// <summary>Starts the read once (it is in the cache's in-flight map by then, so it can take itself out).</summary>
        public Task<SecretRead> Start(Lazy<Fetch> entry)
        {
            lock (this)
                return _result ??= _cache.FetchAsync(_key, this, entry);
        }

        public CancellationToken Abandoned => _abandon.Token;

        public bool TryJoin(string tenant)
        {
            lock (this)
            {
                if (_abandon.IsCancellationRequested)
                    return false;
                _waiters++;
                if (!_closed && _tenants.Add(tenant) && _cache.Reader.SlotsFor(_key.Location.Backend) is { } slots)
                    _ = AskAsync(slots, tenant);
                return true;
            }
        }

        public void Leave()
        {
            lock (this)
            {
                if (--_waiters == 0 && _result is { IsCompleted: false })
                    _abandon.Cancel();
            }
        }

        private async Task AskAsync(FairSlots slots, string tenant)
        {
            IDisposable slot;
            try
            {
                slot = await slots.AcquireAsync(tenant, _stopAsking.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            lock (this)
            {
                if (!_closed && _slot.TrySetResult(slot))
                    return;
            }
            slot.Dispose();
        }

        public async Task<IDisposable> SlotAsync(CancellationToken cancellationToken)
        {
            IDisposable? taken = null;
            try
            {
                return taken = await _slot.Task.WaitAsync(cancellationToken);
            }
            finally
            {
                lock (this)
                {
                    _closed = true;
                    if (taken is null && _slot.Task.IsCompletedSuccessfully)
                        _slot.Task.Result.Dispose();
                }
                _stopAsking.Cancel();
            }
        }

        public void Close()
        {
            lock (this)
                _closed = true;
            _stopAsking.Cancel();
        }
    }

    private Entry Stored(SecretDocument document) => new(document, time.GetUtcNow(), Interlocked.Increment(ref _writes));

    private void Hold(ReadKey key, SecretRead read)
    {
        if (_failures.Count >= capacity)
            _failures.Clear();
        _failures[key] = (read, time.GetUtcNow());
    }

    /// <summary>
    /// Makes a cached location whose version is not <paramref name="version"/> due for a read; true when it was. The
    /// document is kept: whoever claims a newer version can cost one backend read, never anyone's last-known-good.
    /// </summary>
    public bool MarkStaleIfNot(SecretLocation location, string version, Subject? readAs = null)
    {
        if (!_entries.TryGetValue(reader.KeyFor(location, readAs), out var entry) || entry.Stale || entry.Document.Version == version)
            return false;
        entry.Stale = true;
        return true;
    }

    private SecretRead WithLastKnownGood(ReadKey key, SecretRead failure) =>
        _entries.TryGetValue(key, out var lastKnownGood)
            ? SecretRead.Failed(failure.Location, failure.Reason!, lastKnownGood.Document, time.GetUtcNow() - lastKnownGood.FetchedAt)
            : failure;

    /// <summary>Counts the entry against <paramref name="tenant"/> the first time that tenant reads it.</summary>
    private void Use(Entry entry, string tenant)
    {
        lock (_accounting)
        {
            if (entry.Users.Count < MaxUsersTracked && entry.Users.Add(tenant))
                _entriesUsed[tenant] = _entriesUsed.GetValueOrDefault(tenant) + 1;
        }
    }

    private void Forget(Entry entry)
    {
        lock (_accounting)
        {
            foreach (var user in entry.Users)
                Uncount(user);
            entry.Users.Clear();
        }
    }

    private void Uncount(string tenant)
    {
        if (--_entriesUsed[tenant] == 0)
            _entriesUsed.Remove(tenant);
    }

    /// <summary>
    /// Past capacity, a tenth goes, taken from the tenant that uses the most entries: its own (oldest first) are
    /// dropped, and the ones it shares with others stop counting against it but stay for them.
    /// </summary>
    private void EvictIfFull()
    {
        if (_entries.Count <= capacity)
            return;
        lock (_accounting)
        {
            var target = capacity - Math.Max(1, capacity / 10);
            while (_entries.Count > target && _entriesUsed.Count > 0)
            {
                var heaviest = _entriesUsed.MaxBy(u => u.Value).Key;
                var oldest = _entries.Where(e => e.Value.Users.Contains(heaviest)).OrderBy(e => e.Value.FetchedAt)
                    .Take(Math.Max(1, _entries.Count - target)).ToList();
                if (oldest.Count == 0)
                {
                    // Counted for entries a refresh replaced meanwhile: nothing of its own is left to take.
                    _entriesUsed.Remove(heaviest);
                    continue;
                }
                foreach (var (location, entry) in oldest)
                {
                    if (entry.Users.Count == 1)
                        _entries.TryRemove(KeyValuePair.Create(location, entry));
                    entry.Users.Remove(heaviest);
                    Uncount(heaviest);
                }
            }
            // Entries nobody is counted for (they were refreshed before any read): the oldest of those.
            foreach (var old in _entries.Where(e => e.Value.Users.Count == 0).OrderBy(e => e.Value.FetchedAt).Take(Math.Max(0, _entries.Count - target)).ToList())
                _entries.TryRemove(old);
        }
    }
}
