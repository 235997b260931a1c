using ConfigInjector.Core.Planning;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;

namespace ConfigInjector.Core.Rotation;

/// <summary>What re-resolving one managed Secret found: its new content, the keys that changed, and the refs that could not be read.</summary>
public sealed record RotationOutcome(
    IReadOnlyDictionary<string, string> Data,
    IReadOnlyDictionary<string, KeySource> Sources,
    IReadOnlyList<string> ChangedKeys,
    IReadOnlyList<string> Failures,
    IReadOnlyList<string> NewVersionOnlyKeys)
{
    /// <summary>The Secret needs a write: a value changed, or only the recorded version did.</summary>
    public bool Changed => ChangedKeys.Count > 0 || NewVersionOnlyKeys.Count > 0;

    /// <summary>
    /// True when a value delivered as an env var changed: only a restart brings it to running containers.
    /// A new version with the same value (a re-written Vault secret, a KV v1 content hash after a restart) restarts nothing.
    /// </summary>
    public bool EnvChanged => ChangedKeys.Any(k => !k.StartsWith(ManagedSecretSpec.FileKeyPrefix, StringComparison.Ordinal));

    public override string ToString() => $"RotationOutcome(changed: {string.Join(", ", ChangedKeys)}; failures: {Failures.Count})";
}

/// <summary>
/// Re-resolution of a managed Secret from fresh reads. A key whose ref cannot be read keeps its last value:
/// a failing backend never blanks or deletes anything.
/// </summary>
public static class RotationPlanner
{
    public static IEnumerable<SecretLocation> Locations(IReadOnlyDictionary<string, KeySource> sources) =>
        sources.Values.Select(s => ReferenceParser.Parse(s.Ref)).Where(r => r.IsOk).Select(r => r.Value!.Location).Distinct();

    /// <param name="refuse">A reason not to refresh a key (its ref is no longer allowed), or null: a refused key keeps its value.</param>
    public static RotationOutcome Plan(
        IReadOnlyDictionary<string, string> current,
        IReadOnlyDictionary<string, KeySource> sources,
        IReadOnlyDictionary<SecretLocation, SecretRead> reads,
        Func<SecretReference, string?>? refuse = null) =>
        Plan(HeldValues.Of(current), sources, reads, refuse);

    /// <summary>
    /// Against digests only, the outcome's <see cref="RotationOutcome.Data"/> holds just the keys read again: enough to
    /// know whether the Secret needs a write, which is then planned against its values.
    /// </summary>
    public static RotationOutcome Plan(
        HeldValues current,
        IReadOnlyDictionary<string, KeySource> sources,
        IReadOnlyDictionary<SecretLocation, SecretRead> reads,
        Func<SecretReference, string?>? refuse = null)
    {
        var data = new SortedDictionary<string, string>(current.Known.ToDictionary(), StringComparer.Ordinal);
        var newSources = new SortedDictionary<string, KeySource>(sources.ToDictionary(), StringComparer.Ordinal);
        var changed = new List<string>();
        var versionOnly = new List<string>();
        var failures = new List<string>();
        foreach (var (key, source) in sources.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            var parsed = ReferenceParser.Parse(source.Ref);
            if (!parsed.IsOk)
            {
                failures.Add($"{key}: \"{source.Ref}\": {parsed.Error}");
                continue;
            }
            var reference = parsed.Value!;
            if (refuse?.Invoke(reference) is { } refusal)
            {
                failures.Add($"{source.Ref}: {refusal}");
                continue;
            }
            if (!reads.TryGetValue(reference.Location, out var read) || read.Status != ReadStatus.Found)
            {
                failures.Add($"{source.Ref}: {(read?.Status switch { ReadStatus.NotFound => "not found: ", ReadStatus.Refused => "", _ => "backend error: " })}{read?.Reason ?? "not read"}");
                continue;
            }
            var document = read.Document!;
            var wantedKey = reference.Key ?? (document.Data.Count == 1 ? document.Data.Keys.First() : null);
            if (wantedKey is null || !document.Data.TryGetValue(wantedKey, out var value))
            {
                failures.Add($"{source.Ref}: the key is no longer at that path");
                continue;
            }
            if (!current.Holds(key, value))
                changed.Add(key);
            else if (source.Version != document.Version)
                versionOnly.Add(key);
            data[key] = value;
            newSources[key] = source with { Version = document.Version };
        }
        return new RotationOutcome(data, newSources, changed, failures, versionOnly);
    }
}
