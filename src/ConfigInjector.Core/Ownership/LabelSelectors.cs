using k8s.Models;

namespace ConfigInjector.Core.Ownership;

/// <summary>
/// A label selector as the API server evaluates it: every matchLabels pair and every matchExpressions requirement must
/// hold. A missing or empty selector selects nothing here: the apps/v1 and batch/v1 controllers always carry one, so an
/// object without one proves no ownership.
/// </summary>
public static class LabelSelectors
{
    public static bool Matches(V1LabelSelector? selector, IDictionary<string, string>? labels)
    {
        if (selector is null || ((selector.MatchLabels?.Count ?? 0) == 0 && (selector.MatchExpressions?.Count ?? 0) == 0))
            return false;
        labels ??= new Dictionary<string, string>();
        foreach (var (key, value) in selector.MatchLabels ?? new Dictionary<string, string>())
        {
            if (!labels.TryGetValue(key, out var actual) || actual != value)
                return false;
        }
        return (selector.MatchExpressions ?? []).All(requirement => requirement is not null && Holds(requirement, labels));
    }

    private static bool Holds(V1LabelSelectorRequirement requirement, IDictionary<string, string> labels)
    {
        var present = labels.TryGetValue(requirement.Key, out var value);
        var listed = present && (requirement.Values?.Contains(value!) ?? false);
        return requirement.OperatorProperty switch
        {
            "In" => listed,
            "NotIn" => !listed,
            "Exists" => present,
            "DoesNotExist" => !present,
            _ => false,
        };
    }
}
