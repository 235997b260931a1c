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
}
