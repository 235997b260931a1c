using System.Collections.Concurrent;
using ConfigInjector.Core.Planning;
using k8s.Models;

namespace ConfigInjector.Admission;

/// <summary>
/// The managed Secret of an owner, built and signed once per distinct content and signing key: the pods of a rollout
/// ask for the same Secret, and the 1,000th reuses what the first computed. Bounded: a burst of distinct owners
/// forgets the older ones, which costs each of them one build.
/// </summary>
internal sealed class SignedSecretMemo(int capacity = SignedSecretMemo.DefaultCapacity)
{
    public const int DefaultCapacity = 1_024;

    private sealed record Entry(ManagedSecretSpec Spec, byte[] Key, V1Secret Secret);

    private readonly ConcurrentDictionary<(string Namespace, string Name), Entry> _entries = new();

    public int Count => _entries.Count;

    /// <summary>The signed Secret for <paramref name="spec"/>; callers must not change it (it is shared).</summary>
    public V1Secret GetOrCreate(ManagedSecretSpec spec, byte[] signingKey)
    {
        var id = (spec.Namespace, spec.Name);
        if (_entries.TryGetValue(id, out var known) && known.Key.AsSpan().SequenceEqual(signingKey) && known.Spec.SameContentAs(spec))
            return known.Secret;
        var secret = ManagedSecretFactory.Create(spec, signingKey);
        if (_entries.Count >= capacity)
            _entries.Clear();
        _entries[id] = new Entry(spec, signingKey, secret);
        return secret;
    }
}
