using ConfigInjector.Core.Annotations;

namespace ConfigInjector.Core.Policies;

public enum BackendErrorMode { Deny, AllowStale, Skip }

public static class BackendErrorModes
{
    /// <summary>The mode as a policy spells it (<c>deny</c>, <c>allow-stale</c>, <c>skip</c>): what users see in messages.</summary>
    public static string Word(this BackendErrorMode mode) => mode switch
    {
        BackendErrorMode.AllowStale => "allow-stale",
        BackendErrorMode.Skip => "skip",
        _ => "deny",
    };
}

/// <summary>Who a policy applies to. <c>ServiceAccounts</c> null = any.</summary>
public sealed record PolicySubjects(IReadOnlyList<string> Namespaces, IReadOnlyList<string>? ServiceAccounts);

/// <summary>One allow rule: a backend, path globs (<c>*</c> one segment, <c>**</c> any depth) and key globs (null = any).</summary>
public sealed record PolicyRule(string Backend, IReadOnlyList<string> Paths, IReadOnlyList<string>? Keys)
{
    /// <summary>
    /// The paths are in a lease-issuing engine (Vault's database, AWS, …): read once per managed Secret, renewed and
    /// revoked by the worker (DESIGN.md §3 "Dynamic secrets"). Without it a path outside a KV engine is refused.
    /// </summary>
    public bool Dynamic { get; init; }
}

public sealed record RotationSettings(TimeSpan Interval, RotationMode OnChange)
{
    public static readonly RotationSettings Default = new(TimeSpan.FromMinutes(5), RotationMode.Restart);

    public static readonly TimeSpan DefaultDebounce = TimeSpan.FromSeconds(10);

    /// <summary>Changes to a workload's refs within this of the first one give one restart, not one each (DESIGN.md §5).</summary>
    public TimeSpan Debounce { get; init; } = DefaultDebounce;
}

/// <summary>A SecretPolicy (configinjector.io/v1alpha1) as the security team wrote it, validated.</summary>
public sealed record SecretPolicy(
    string Name,
    PolicySubjects Subjects,
    IReadOnlyList<PolicyRule> Rules,
    RotationSettings Rotation,
    BackendErrorMode OnBackendError);
