using ConfigInjector.Core.Policies;
using k8s.Models;

namespace ConfigInjector.Core.Planning;

/// <summary>
/// The content of the managed Secret: data keys to values and to their sources, how a change is rolled out,
/// and the pod's controller that owns it (null for a bare pod, adopted once the pod exists).
/// </summary>
public sealed record ManagedSecretSpec(
    string Name,
    string Namespace,
    IReadOnlyDictionary<string, string> Data,
    IReadOnlyDictionary<string, KeySource> Sources,
    RotationSettings Rotation,
    V1OwnerReference? Owner,
    string ServiceAccount)
{
    /// <summary>Data keys delivered as files; every other key is an env var.</summary>
    public const string FileKeyPrefix = "file.";

    /// <summary>Keys composed from several refs (templates, formatted files): how each is made, with the versions read.</summary>
    public IReadOnlyDictionary<string, Templates.ComposedSource> Composed { get; init; } = new Dictionary<string, Templates.ComposedSource>();

    public override string ToString() => $"ManagedSecret {Namespace}/{Name} ({Data.Count} keys)";

    /// <summary>Whether both make the same Secret: every field the Secret is built from, values included.</summary>
    public bool SameContentAs(ManagedSecretSpec other) =>
        Name == other.Name && Namespace == other.Namespace && ServiceAccount == other.ServiceAccount && Rotation == other.Rotation
        && SameOwner(Owner, other.Owner)
        && SameEntries(Data, other.Data, string.Equals)
        && SameEntries(Sources, other.Sources, (a, b) => a == b)
        && SameEntries(Composed, other.Composed, (a, b) => a.Template == b.Template && a.From == b.From && a.Format == b.Format && SameEntries(a.Versions, b.Versions, string.Equals));

    private static bool SameOwner(V1OwnerReference? a, V1OwnerReference? b) =>
        a is null || b is null
            ? a is null && b is null
            : a.Uid == b.Uid && a.Name == b.Name && a.Kind == b.Kind && a.ApiVersion == b.ApiVersion && a.Controller == b.Controller && a.BlockOwnerDeletion == b.BlockOwnerDeletion;

    private static bool SameEntries<T>(IReadOnlyDictionary<string, T> a, IReadOnlyDictionary<string, T> b, Func<T, T, bool> same)
    {
        if (a.Count != b.Count)
            return false;
        foreach (var (key, value) in a)
        {
            if (!b.TryGetValue(key, out var other) || !same(value, other))
                return false;
        }
        return true;
    }
}
