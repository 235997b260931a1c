namespace ConfigInjector.Kubernetes;

/// <summary>
/// A bounded queue that takes turns between keys (namespaces): one tenant's flood fills only its own share
/// (<paramref name="perKey"/>) and waits its turn, so another tenant's item is not stuck behind it. Refuses, rather
/// than grows, when full. Not thread-safe: the caller locks.
/// </summary>
internal sealed class FairQueue<T>(int capacity, int perKey)
{
    private readonly Dictionary<string, Queue<T>> _byKey = new(StringComparer.Ordinal);
    private readonly Queue<string> _turns = new();

    public int Count { get; private set; }

    public bool TryEnqueue(string key, T item)
    {
        if (Count >= capacity)
            return false;
        if (!_byKey.TryGetValue(key, out var queue))
        {
            _byKey[key] = queue = new Queue<T>();
            _turns.Enqueue(key);
        }
        else if (queue.Count >= perKey)
        {
            return false;
        }
        queue.Enqueue(item);
        Count++;
        return true;
    }

    public bool TryDequeue(out T item)
    {
        if (!_turns.TryDequeue(out var key))
        {
            item = default!;
            return false;
        }
        var queue = _byKey[key];
        item = queue.Dequeue();
        Count--;
        if (queue.Count > 0)
            _turns.Enqueue(key);
        else
            _byKey.Remove(key);
        return true;
    }
}
