namespace ConfigInjector.Sync;

/// <summary>
/// A keyed, delayed work queue on a <see cref="TimeProvider"/>, after client-go's delaying work queue: one entry per
/// key however often it is added (the earliest wins unless replaced), keys handed out once they are due (the longest
/// waiting first, a bounded number at a time), a key that is being worked on held back so a failing pass does not
/// retry it on every tick, and a per-key exponential backoff for work that failed (reset when it succeeds).
/// </summary>
internal sealed class WorkSchedule<TKey>(TimeProvider time)
    where TKey : notnull
{
    private readonly Lock _lock = new();
    private readonly Dictionary<TKey, DateTimeOffset> _due = [];
    private readonly Dictionary<TKey, int> _failures = [];
    // Keys asked for sooner (a refresh request) since they were last handed out: the pass that is working on one may
    // have read its refs before the request, so its outcome must not push the request back to the interval.
    private readonly Dictionary<TKey, DateTimeOffset> _expedited = [];

    public int Count
    {
        get
        {
            lock (_lock)
                return _due.Count;
        }
    }

    /// <summary>Due after <paramref name="delay"/>, unless the key is already queued (then nothing changes).</summary>
    public void AddIfAbsent(TKey key, TimeSpan delay)
    {
        lock (_lock)
            _due.TryAdd(key, time.GetUtcNow() + delay);
    }

    /// <summary>
    /// Due at <paramref name="at"/> at the latest, whether it is queued, being worked on or unknown: what the work
    /// in flight reports when it ends does not put the key off past that.
    /// </summary>
    public void Expedite(TKey key, DateTimeOffset at)
    {
        lock (_lock)
        {
            _due[key] = _due.TryGetValue(key, out var due) && due < at ? due : at;
            _expedited[key] = _expedited.TryGetValue(key, out var asked) && asked < at ? asked : at;
        }
    }

    /// <summary>The work succeeded: due after <paramref name="delay"/>, whatever was queued for the key before, and its backoff reset.</summary>
    public void Schedule(TKey key, TimeSpan delay)
    {
        lock (_lock)
        {
            _due[key] = Sooner(key, time.GetUtcNow() + delay);
            _failures.Remove(key);
        }
    }

    /// <summary>
    /// The work failed: due again after <paramref name="firstDelay"/>, doubled for each failure in a row, never later
    /// than <paramref name="maxDelay"/>. Returns the delay chosen.
    /// </summary>
    public TimeSpan Retry(TKey key, TimeSpan firstDelay, TimeSpan maxDelay)
    {
        lock (_lock)
        {
            var failures = _failures[key] = _failures.GetValueOrDefault(key) + 1;
            var delay = firstDelay * Math.Pow(2, Math.Min(failures - 1, 20));
            if (delay > maxDelay)
                delay = maxDelay;
            _due[key] = Sooner(key, time.GetUtcNow() + delay);
            return delay;
        }
    }

    public void Forget(TKey key)
    {
        lock (_lock)
        {
            _due.Remove(key);
            _failures.Remove(key);
            _expedited.Remove(key);
        }
    }

    /// <summary>
    /// At most <paramref name="limit"/> of the keys due now, those waiting longest first, each held back by
    /// <paramref name="hold"/> until the caller schedules it again; the rest stay due for the next take.
    /// </summary>
    public IReadOnlyList<TKey> TakeDue(TimeSpan hold, int limit = int.MaxValue)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            var ready = _due.Where(d => d.Value <= now).OrderBy(d => d.Value).Take(limit).Select(d => d.Key).ToList();
            foreach (var key in ready)
            {
                _due[key] = now + hold;
                _expedited.Remove(key);
            }
            return ready;
        }
    }

    private DateTimeOffset Sooner(TKey key, DateTimeOffset due) => _expedited.TryGetValue(key, out var asked) && asked < due ? asked : due;
}
