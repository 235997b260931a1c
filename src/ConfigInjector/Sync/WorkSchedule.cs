namespace ConfigInjector.Sync;

/// <summary>
/// A keyed, delayed work queue on a <see cref="TimeProvider"/>, after client-go's delaying work queue: one entry per
/// key however often it is added (the earliest wins unless replaced), keys handed out once they are due, and a key
/// that is being worked on held back so a failing pass does not retry it on every tick.
/// </summary>
internal sealed class WorkSchedule<TKey>(TimeProvider time)
    where TKey : notnull
{
    private readonly Lock _lock = new();
    private readonly Dictionary<TKey, DateTimeOffset> _due = [];

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

    /// <summary>Due after <paramref name="delay"/>, whatever was queued for the key before.</summary>
    public void Schedule(TKey key, TimeSpan delay)
    {
        lock (_lock)
            _due[key] = time.GetUtcNow() + delay;
    }

    public void Forget(TKey key)
    {
        lock (_lock)
            _due.Remove(key);
    }

    /// <summary>The keys due now, each held back by <paramref name="hold"/> until the caller schedules it again.</summary>
    public IReadOnlyList<TKey> TakeDue(TimeSpan hold)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            var ready = _due.Where(d => d.Value <= now).Select(d => d.Key).ToList();
            foreach (var key in ready)
                _due[key] = now + hold;
            return ready;
        }
    }
}
