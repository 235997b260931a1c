using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.References;

namespace ConfigInjector.Core.Policies;

/// <summary>Who is asking: the pod's namespace and service account.</summary>
public sealed record Subject(string Namespace, string ServiceAccount)
{
    public override string ToString() => $"namespace {Namespace}, service account {ServiceAccount}";
}

/// <summary>The outcome for one reference. When allowed, the policies that allow it decide rotation and error handling.</summary>
public sealed record PolicyDecision(
    SecretReference Ref,
    bool Allowed,
    string? Policy,
    int? RuleIndex,
    BackendErrorMode OnBackendError,
    RotationSettings Rotation,
    string Reason)
{
    /// <summary>The allowing rule says <c>dynamic: true</c>: the ref's path issues credentials with a lease.</summary>
    public bool Dynamic { get; init; }
}

/// <summary>Default deny: a reference is allowed only when some policy whose subjects match has a rule that matches it.</summary>
public static class PolicyEvaluator
{
    /// <param name="pathOnly">Ignore the rules' keys: used before a <c>secrets-from</c> path is read, whose keys are checked one by one afterwards.</param>
    public static PolicyDecision Evaluate(IReadOnlyList<SecretPolicy> policies, Subject subject, SecretReference reference, bool pathOnly = false)
    {
        // Several policies may allow the same ref; the strictest settings win so that adding a policy never loosens another.
        // The decision names the first allowing policy by name (the earliest listed among equal names).
        SecretPolicy? first = null;
        var firstRule = 0;
        // Dynamic only when every allowing rule says so: a KV rule beside a dynamic one must not turn a KV read into an issue.
        var dynamic = true;
        var onError = BackendErrorMode.Deny;
        var interval = TimeSpan.Zero;
        var onChange = RotationMode.Restart;
        var debounce = TimeSpan.Zero;
        for (var p = 0; p < policies.Count; p++)
        {
            var policy = policies[p];
            if (!AppliesTo(policy.Subjects, subject) || FirstMatchingRule(policy.Rules, reference, pathOnly) is not { } rule)
                continue;
            var isFirst = first is null;
            dynamic &= policy.Rules[rule].Dynamic;
            onError = isFirst || policy.OnBackendError < onError ? policy.OnBackendError : onError;
            interval = isFirst || policy.Rotation.Interval < interval ? policy.Rotation.Interval : interval;
            onChange = isFirst || policy.Rotation.OnChange < onChange ? policy.Rotation.OnChange : onChange;
            // The shortest wait, as for the interval: a rotated credential is in use no later than any policy asks.
            debounce = isFirst || policy.Rotation.Debounce < debounce ? policy.Rotation.Debounce : debounce;
            if (isFirst || string.CompareOrdinal(policy.Name, first!.Name) < 0)
                (first, firstRule) = (policy, rule);
        }

        if (first is null)
        {
            return new PolicyDecision(reference, false, null, null, BackendErrorMode.Deny, RotationSettings.Default,
                $"{subject}: no SecretPolicy allows {reference}");
        }
        return new PolicyDecision(reference, true, first.Name, firstRule, onError, new RotationSettings(interval, onChange) { Debounce = debounce },
            $"allowed by SecretPolicy {first.Name} rule {firstRule}{(dynamic ? " (dynamic)" : "")}")
        { Dynamic = dynamic };
    }

    public static bool AppliesTo(PolicySubjects subjects, Subject subject) =>
        AnyNameMatches(subjects.Namespaces, subject.Namespace) &&
        (subjects.ServiceAccounts is null || AnyNameMatches(subjects.ServiceAccounts, subject.ServiceAccount));

    private static int? FirstMatchingRule(IReadOnlyList<PolicyRule> rules, SecretReference reference, bool pathOnly)
    {
        for (var i = 0; i < rules.Count; i++)
        {
            if (Matches(rules[i], reference, pathOnly))
                return i;
        }
        return null;
    }

    private static bool Matches(PolicyRule rule, SecretReference reference, bool pathOnly) =>
        rule.Backend == reference.Backend &&
        AnyPathMatches(rule.Paths, reference.Path) &&
        (pathOnly || KeyMatches(rule.Keys, reference.Key));

    // Loops, not Any(): a lambda over the subject or ref would be allocated for every policy and rule of every admission.
    private static bool AnyNameMatches(IReadOnlyList<string> patterns, string value)
    {
        for (var i = 0; i < patterns.Count; i++)
        {
            if (Glob.MatchName(patterns[i], value))
                return true;
        }
        return false;
    }

    private static bool AnyPathMatches(IReadOnlyList<string> patterns, string path)
    {
        for (var i = 0; i < patterns.Count; i++)
        {
            if (Glob.MatchPath(patterns[i], path))
                return true;
        }
        return false;
    }

    // A ref without key (a single-valued secret) passes only rules that allow any key.
    private static bool KeyMatches(IReadOnlyList<string>? keys, string? key) =>
        keys is null || (key is null ? keys.Contains("*") : AnyNameMatches(keys, key));
}
