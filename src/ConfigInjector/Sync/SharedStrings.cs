using System.Collections.Concurrent;
using ConfigInjector.Core.Planning;
using k8s.Models;

namespace ConfigInjector.Sync;

/// <summary>
/// One instance of each string that thousands of kept Secrets repeat (namespaces, label and annotation keys, the
/// service account, owner kinds, the sources of a Deployment's ReplicaSets): the leader keeps every managed Secret,
/// and a fresh copy of each per Secret was much of what it held. Values unique by construction (the signature, the
/// signed owners with their uids) are never pooled, and the pool is bounded by its characters.
/// </summary>
internal sealed class SharedStrings(long budgetChars = SharedStrings.DefaultBudgetChars)
{
    /// <summary>8 MiB of strings at most.</summary>
    public const long DefaultBudgetChars = 4L * 1024 * 1024;

    private const int Longest = 4_096;

    private readonly ConcurrentDictionary<string, string> _pool = new(StringComparer.Ordinal);
    private long _chars;

    public string? Share(string? value)
    {
        if (value is null || value.Length > Longest)
            return value;
        if (_pool.TryGetValue(value, out var shared))
            return shared;
        if (Interlocked.Read(ref _chars) + value.Length > budgetChars)
            return value;
        var pooled = _pool.GetOrAdd(value, value);
        if (ReferenceEquals(pooled, value))
            Interlocked.Add(ref _chars, value.Length);
        return pooled;
    }

    /// <summary>The Secret with its repeated strings shared; its data values are left as they are (each is its own).</summary>
    public V1Secret Share(V1Secret secret)
    {
        secret.ApiVersion = Share(secret.ApiVersion);
        secret.Kind = Share(secret.Kind);
        secret.Type = Share(secret.Type);
        if (secret.Metadata is { } metadata)
        {
            metadata.NamespaceProperty = Share(metadata.NamespaceProperty);
            metadata.Labels = metadata.Labels?.ToDictionary(e => Share(e.Key)!, e => Share(e.Value)!, StringComparer.Ordinal);
            metadata.Annotations = metadata.Annotations?.ToDictionary(e => Share(e.Key)!, e => Unique(e.Key) ? e.Value : Share(e.Value)!, StringComparer.Ordinal);
            foreach (var owner in metadata.OwnerReferences ?? [])
            {
                owner.ApiVersion = Share(owner.ApiVersion);
                owner.Kind = Share(owner.Kind);
            }
        }
        if (secret.Data is { Count: > 0 } data)
            secret.Data = data.ToDictionary(d => Share(d.Key)!, d => d.Value, StringComparer.Ordinal);
        return secret;
    }

    private static bool Unique(string annotation) =>
        annotation is ManagedSecretFactory.SignatureAnnotation or ManagedSecretFactory.OwnersAnnotation or Core.Annotations.AnnotationKeys.Refresh;
}
