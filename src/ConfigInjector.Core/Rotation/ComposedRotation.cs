using ConfigInjector.Core.Planning;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;
using ConfigInjector.Core.Templates;

namespace ConfigInjector.Core.Rotation;

/// <summary>What re-rendering the composed keys of a managed Secret found (values stay in <see cref="Data"/>, never in messages).</summary>
public sealed record ComposedOutcome(
    IReadOnlyDictionary<string, string> Data,
    IReadOnlyDictionary<string, ComposedSource> Composed,
    IReadOnlyList<string> ChangedKeys,
    IReadOnlyList<string> Failures,
    IReadOnlyList<string> NewVersionOnlyKeys)
{
    public bool Changed => ChangedKeys.Count > 0 || NewVersionOnlyKeys.Count > 0;

    public bool EnvChanged => ChangedKeys.Any(k => !k.StartsWith(ManagedSecretSpec.FileKeyPrefix, StringComparison.Ordinal));

    public override string ToString() => $"ComposedOutcome(changed: {string.Join(", ", ChangedKeys)}; failures: {Failures.Count})";
}

/// <summary>
/// Re-rendering of composed keys (templates and formatted files) from fresh reads, as <see cref="RotationPlanner"/>
/// does for plain keys: a key changes when its rendered text does, a new version with the same text is only recorded,
/// and a key any of whose refs cannot be read (or is no longer allowed) keeps its last value.
/// </summary>
public static class ComposedRotation
{
    private static readonly ComposedOutcome Nothing = new(new Dictionary<string, string>(), new Dictionary<string, ComposedSource>(), [], [], []);

    public static IEnumerable<SecretLocation> Locations(IReadOnlyDictionary<string, ComposedSource> composed) =>
        composed.Values.SelectMany(c => c.Refs()).Select(r => r.Location).Distinct();

    public static ComposedOutcome Plan(
        IReadOnlyDictionary<string, string> current,
        IReadOnlyDictionary<string, ComposedSource> composed,
        IReadOnlyDictionary<SecretLocation, SecretRead> reads,
        Func<SecretReference, string?>? refuse = null) =>
        Plan(HeldValues.Of(current), composed, reads, refuse);

    public static ComposedOutcome Plan(
        HeldValues current,
        IReadOnlyDictionary<string, ComposedSource> composed,
        IReadOnlyDictionary<SecretLocation, SecretRead> reads,
        Func<SecretReference, string?>? refuse = null)
    {
        if (composed.Count == 0)
            return Nothing;
        var data = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var sources = new SortedDictionary<string, ComposedSource>(composed.ToDictionary(), StringComparer.Ordinal);
        var changed = new List<string>();
        var versionOnly = new List<string>();
        var failures = new List<string>();
        foreach (var (key, source) in composed.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            var rendered = source.Render(reads, refuse);
            if (!rendered.IsOk)
            {
                failures.Add($"{key}: {rendered.Error}");
                continue;
            }
            var (value, versions) = rendered.Value;
            if (!current.Holds(key, value))
                changed.Add(key);
            else if (!versions.OrderBy(v => v.Key, StringComparer.Ordinal).SequenceEqual(source.Versions.OrderBy(v => v.Key, StringComparer.Ordinal)))
                versionOnly.Add(key);
            data[key] = value;
            sources[key] = source with { Versions = versions };
        }
        return new ComposedOutcome(data, sources, changed, failures, versionOnly);
    }
}
