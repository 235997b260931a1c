using System.Collections.Concurrent;
using System.Collections.ObjectModel;

namespace ConfigInjector.Sync;

/// <summary>
/// One read-only instance of each set of labels or annotations that many kept Secrets have alike (the Secrets of a
/// Deployment's ReplicaSets, or every Secret's labels). Read-only, so a caller that changes one by mistake fails
/// instead of changing every Secret that shares it. Bounded: past <see cref="Capacity"/> distinct sets, a set is kept
/// as its own copy.
/// </summary>
internal sealed class SharedMaps(SharedStrings strings)
{
    public const int Capacity = 4_096;

    private readonly ConcurrentDictionary<string[], ReadOnlyDictionary<string, string>> _pool = new(Entries.Comparer);

    public IDictionary<string, string>? Share(IEnumerable<KeyValuePair<string, string>>? map)
    {
        if (map is null)
            return null;
        var entries = map.OrderBy(e => e.Key, StringComparer.Ordinal).SelectMany(e => new[] { strings.Share(e.Key)!, strings.Share(e.Value)! }).ToArray();
        if (_pool.TryGetValue(entries, out var shared))
            return shared;
        var fresh = new ReadOnlyDictionary<string, string>(Entries.ToDictionary(entries));
        return _pool.Count < Capacity ? _pool.GetOrAdd(entries, fresh) : fresh;
    }

    private static class Entries
    {
        public static readonly IEqualityComparer<string[]> Comparer = new ByContent();

        public static Dictionary<string, string> ToDictionary(string[] entries)
        {
            var map = new Dictionary<string, string>(entries.Length / 2, StringComparer.Ordinal);
            for (var i = 0; i < entries.Length; i += 2)
                map[entries[i]] = entries[i + 1];
            return map;
        }

        private sealed class ByContent : IEqualityComparer<string[]>
        {
            public bool Equals(string[]? x, string[]? y) => x is not null && y is not null && x.AsSpan().SequenceEqual(y);

            public int GetHashCode(string[] entries)
            {
                var hash = new HashCode();
                foreach (var entry in entries)
                    hash.Add(entry, StringComparer.Ordinal);
                return hash.ToHashCode();
            }
        }
    }
}
