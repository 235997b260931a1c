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
    string Reason);

/// <summary>Default deny: a reference is allowed only when some policy whose subjects match has a rule that matches it.</summary>
public static class PolicyEvaluator
{
    /// <param name="pathOnly">Ignore the rules' keys: used before a <c>secrets-from</c> path is read, whose keys are checked one by one afterwards.</param>
    public static PolicyDecision Evaluate(IReadOnlyList<SecretPolicy> policies, Subject subject, SecretReference reference, bool pathOnly = false)
    {
        var allowing = new List<(SecretPolicy Policy, int Rule)>();
        foreach (var policy in policies)
        {
            if (!AppliesTo(policy.Subjects, subject))
                continue;
            for (var i = 0; i < policy.Rules.Count; i++)
            {
                if (Matches(policy.Rules[i], reference, pathOnly))
                {
                    allowing.Add((policy, i));
                    break;
                }
            }
        }

        if (allowing.Count == 0)
        {
            return new PolicyDecision(reference, false, null, null, BackendErrorMode.Deny, RotationSettings.Default,
                $"{subject}: no SecretPolicy allows {reference}");
        }

        // Several policies may allow the same ref; the strictest settings win so that adding a policy never loosens another.
        var first = allowing.OrderBy(a => a.Policy.Name, StringComparer.Ordinal).First();
        var onError = allowing.Select(a => a.Policy.OnBackendError).Min();
        var interval = allowing.Select(a => a.Policy.Rotation.Interval).Min();
        var onChange = allowing.Select(a => a.Policy.Rotation.OnChange).Min();
        return new PolicyDecision(reference, true, first.Policy.Name, first.Rule, onError, new RotationSettings(interval, onChange),
            $"allowed by SecretPolicy {first.Policy.Name} rule {first.Rule}");
    }

    public static bool AppliesTo(PolicySubjects subjects, Subject subject) =>
        subjects.Namespaces.Any(n => Glob.MatchName(n, subject.Namespace)) &&
        (subjects.ServiceAccounts is null || subjects.ServiceAccounts.Any(s => Glob.MatchName(s, subject.ServiceAccount)));

    private static bool Matches(PolicyRule rule, SecretReference reference, bool pathOnly) =>
        rule.Backend == reference.Backend &&
        rule.Paths.Any(p => Glob.MatchPath(p, reference.Path)) &&
        (pathOnly || KeyMatches(rule.Keys, reference.Key));

    // A ref without key (a single-valued secret) passes only rules that allow any key.
    private static bool KeyMatches(IReadOnlyList<string>? keys, string? key) =>
        keys is null || (key is null ? keys.Contains("*") : keys.Any(k => Glob.MatchName(k, key)));
}
