using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using k8s.Models;

namespace ConfigInjector.Core.Planning;

public enum ContainerKind { Regular, Init }

/// <summary>A container of the pod with its place in the spec.</summary>
public sealed record TargetContainer(ContainerKind Kind, int Index, V1Container Container)
{
    public string Pointer => Kind == ContainerKind.Regular ? $"/spec/containers/{Index}" : $"/spec/initContainers/{Index}";

    public string Name => Container.Name;
}

/// <summary>What the admission knows about the configured backends, without talking to them.</summary>
public sealed record BackendInfo(string Name, bool Sensitive);

/// <summary>A literal env var from a ConfigProfile's <c>env</c>: the lowest precedence of all.</summary>
public sealed record ProfileEnv(string Name, string Value, string Profile);

/// <summary>An env var in a container whose value is <c>configinjector:&lt;ref&gt;</c>.</summary>
public sealed record InlineEnvRequest(TargetContainer Container, int EnvIndex, string Name, SecretReference Ref);

/// <summary>Everything decided before any backend is read: targets, refs, policy decisions and what to read.</summary>
public sealed record PreparedInjection(
    Subject Subject,
    InjectionRequest Request,
    IReadOnlyList<TargetContainer> Targets,
    IReadOnlyList<InlineEnvRequest> Inline,
    IReadOnlyList<ProfileEnv> ProfileEnv,
    IReadOnlyList<SecretPolicy> Policies,
    IReadOnlyDictionary<SecretReference, PolicyDecision> Decisions,
    PolicyDecision? SecretsFromDecision,
    IReadOnlyList<SecretLocation> Locations,
    IReadOnlyDictionary<string, BackendInfo> Backends,
    IReadOnlyList<string> Warnings);

/// <summary>
/// The result of a planning step: <see cref="Value"/> when it can go on; otherwise a rejection (<see cref="Errors"/>)
/// or, with neither, nothing to do for this pod.
/// </summary>
public sealed record StepOutcome<T>(T? Value, IReadOnlyList<string> Errors, IReadOnlyList<string> Warnings, bool PolicyDenied = false)
    where T : class
{
    public bool Rejected => Errors.Count > 0;

    /// <summary>On a rejection before any read: every ref the pod asked for, for the audit line.</summary>
    public IReadOnlyList<string> Requested { get; init; } = [];

    public static StepOutcome<T> Nothing(IReadOnlyList<string> warnings) => new(null, [], warnings);
}

/// <summary>One env var to add to (or replace in) a container.</summary>
public sealed record EnvChange(TargetContainer Container, V1EnvVar Var, int? ReplaceIndex);

/// <summary>Where one data key of a managed Secret came from: the ref as the pod wrote it, and the version used.</summary>
public sealed record KeySource(string Ref, string Version);

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

    public override string ToString() => $"ManagedSecret {Namespace}/{Name} ({Data.Count} keys)";
}

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
        var dropped = Secret.Sources.Values
            .Select(s => References.ReferenceParser.Parse(s.Ref))
            .Zip(Secret.Sources.Values, (parsed, source) => parsed.IsOk ? (parsed.Value! with { Version = source.Version }).ToString() : source.Ref)
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
            Skipped = [.. Skipped, .. Secret.Sources.Values.Select(s => $"{s.Ref}: {warning}")],
        };
    }

    /// <summary>The strictest <c>onBackendError</c> among the policies that allowed this plan's refs.</summary>
    public BackendErrorMode StrictestOnBackendError =>
        Decisions.Where(d => d.Allowed).Select(d => d.OnBackendError).DefaultIfEmpty(BackendErrorMode.Deny).Min();
}
