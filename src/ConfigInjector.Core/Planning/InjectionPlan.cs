using ConfigInjector.Core.Policies;
using k8s.Models;

namespace ConfigInjector.Core.Planning;

/// <summary>The complete, validated injection: what the patch builder turns into JSON-patch operations.</summary>
public sealed record InjectionPlan(
    IReadOnlyList<EnvChange> Env,
    IReadOnlyList<TargetContainer> FileMounts,
    IReadOnlyList<V1KeyToPath> FileItems,
    string FilesDir,
    ManagedSecretSpec? Secret,
    string InjectedAnnotation,
    IReadOnlyList<PolicyDecision> Decisions,
    IReadOnlyList<string> Warnings)
{
    /// <summary>Refs left out because their backend failed and the policy says <c>skip</c>, with the reason: each is recorded in an Event.</summary>
    public IReadOnlyList<string> Skipped { get; init; } = [];

    public const string FilesVolumeName = "configinjector-files";

    /// <summary>
    /// The plan without anything delivered through the managed Secret, for when the Secret cannot be written and
    /// the policy admits the pod anyway: plain settings stay, the marker lists only what was delivered.
    /// </summary>
    public InjectionPlan WithoutManagedSecret(string warning)
    {
        if (Secret is null)
            return this;
        var delivered = Secret.Sources.Values
            .Concat(Secret.Composed.Values.SelectMany(c => c.Versions.Select(v => new KeySource(v.Key, v.Value))))
            .ToList();
        var dropped = delivered
            .Select(s => References.ReferenceParser.Parse(s.Ref))
            .Zip(delivered, (parsed, source) => parsed.IsOk ? (parsed.Value! with { Version = source.Version }).ToString() : source.Ref)
            .ToHashSet(StringComparer.Ordinal);
        var marker = string.Join(",", InjectedAnnotation.Split(',', StringSplitOptions.RemoveEmptyEntries).Where(r => !dropped.Contains(r)));
        return this with
        {
            Env = [.. Env.Where(e => e.Var.ValueFrom?.SecretKeyRef?.Name != Secret.Name)],
            FileMounts = [],
            FileItems = [],
            Secret = null,
            InjectedAnnotation = marker,
            Warnings = [.. Warnings, warning],
            Skipped = [.. Skipped, .. delivered.Select(s => s.Ref).Distinct().Select(r => $"{r}: {warning}")],
        };
    }

    /// <summary>The strictest <c>onBackendError</c> among the policies that allowed this plan's refs.</summary>
    public BackendErrorMode StrictestOnBackendError =>
        Decisions.Where(d => d.Allowed).Select(d => d.OnBackendError).DefaultIfEmpty(BackendErrorMode.Deny).Min();
}
