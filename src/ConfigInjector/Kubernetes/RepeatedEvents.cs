using k8s.Models;

namespace ConfigInjector.Kubernetes;

/// <summary>
/// Remembers the Events recently asked for, so a repeat counts onto the Event already written instead of making a new
/// one (client-go's event correlator, in small): the same (namespace, object, reason, message) seen again within
/// <paramref name="window"/> of its last sighting is one Event whose count grows. Past
/// <paramref name="messagesPerObject"/> distinct messages for one (object, reason), further messages are combined
/// into one Event that shows the latest. At most <paramref name="capacity"/> entries: the least recently seen goes
/// first, so a tenant inventing endless owners costs bounded memory. Not thread-safe: the caller locks.
/// </summary>
internal sealed class RepeatedEvents(int capacity, int messagesPerObject, TimeSpan window)
{
    public const string CombinedPrefix = "(combined from similar events): ";

    private readonly record struct Key(string Namespace, string Object, string Reason, string? Message);

    internal sealed class Entry(V1ObjectReference involved, string reason, string message, DateTimeOffset now)
    {
        public V1ObjectReference Involved { get; } = involved;
        public string Reason { get; } = reason;
        public string Message { get; set; } = message;
        public DateTimeOffset First { get; } = now;
        public DateTimeOffset Last { get; set; } = now;

        /// <summary>Sightings so far, and how many of them the Event in the cluster counts.</summary>
        public int Seen { get; set; } = 1;
        public int Written { get; set; }

        /// <summary>The Event's name once created (the API server picks it from generateName).</summary>
        public string? Name { get; set; }

        /// <summary>Waiting in the write queue or being written: not queued again until done.</summary>
        public bool Queued { get; set; }

        public bool Dirty => Seen > Written && !Queued;
    }

    private readonly Dictionary<Key, LinkedListNode<(Key Key, Entry Entry)>> _entries = [];
    private readonly LinkedList<(Key Key, Entry Entry)> _byLastSeen = new();
    private readonly Dictionary<(string, string, string), int> _messagesPerObject = [];

    public int Count => _entries.Count;

    /// <summary>Counts one sighting; returns its entry and whether it is new (nothing written for it yet).</summary>
    public (Entry Entry, bool IsNew) Observe(V1ObjectReference involved, string reason, string message, DateTimeOffset now)
    {
        Expire(now);
        var ns = involved.NamespaceProperty ?? "";
        var target = !string.IsNullOrEmpty(involved.Uid) ? involved.Uid : $"{involved.Kind}/{involved.Name}";
        var key = new Key(ns, target, reason, message);
        var combined = key with { Message = null };
        if (!_entries.ContainsKey(key) && _messagesPerObject.GetValueOrDefault((ns, target, reason)) >= messagesPerObject)
        {
            key = combined;
            message = CombinedPrefix + message;
        }
        if (_entries.TryGetValue(key, out var node))
        {
            var entry = node.Value.Entry;
            entry.Seen++;
            entry.Last = now;
            entry.Message = message;
            _byLastSeen.Remove(node);
            _byLastSeen.AddLast(node);
            return (entry, false);
        }
        var created = new Entry(involved, reason, message, now);
        _entries[key] = _byLastSeen.AddLast((key, created));
        _messagesPerObject[(ns, target, reason)] = _messagesPerObject.GetValueOrDefault((ns, target, reason)) + 1;
        while (_entries.Count > capacity)
            Remove(_byLastSeen.First!);
        return (created, true);
    }

    /// <summary>Entries with sightings the cluster's Event does not count yet.</summary>
    public IReadOnlyList<Entry> Dirty(DateTimeOffset now)
    {
        Expire(now);
        return [.. _byLastSeen.Select(n => n.Entry).Where(e => e.Dirty)];
    }

    private void Expire(DateTimeOffset now)
    {
        while (_byLastSeen.First is { } oldest && now - oldest.Value.Entry.Last > window)
            Remove(oldest);
    }

    private void Remove(LinkedListNode<(Key Key, Entry Entry)> node)
    {
        var key = node.Value.Key;
        _byLastSeen.Remove(node);
        _entries.Remove(key);
        var perObject = (key.Namespace, key.Object, key.Reason);
        if (--_messagesPerObject[perObject] == 0)
            _messagesPerObject.Remove(perObject);
    }
}
