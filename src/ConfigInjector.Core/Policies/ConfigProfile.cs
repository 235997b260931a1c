using ConfigInjector.Core.References;

namespace ConfigInjector.Core.Policies;

/// <summary>Where a profile applies by itself: namespace globs and pod labels that must all be equal. Null = only by name.</summary>
public sealed record ProfileSelector(IReadOnlyList<string> Namespaces, IReadOnlyDictionary<string, string> PodLabels)
{
    public bool Matches(string @namespace, IReadOnlyDictionary<string, string>? labels) =>
        Namespaces.Any(n => Glob.MatchName(n, @namespace)) &&
        PodLabels.All(l => labels?.TryGetValue(l.Key, out var value) == true && value == l.Value);
}

/// <summary>A ConfigProfile (configinjector.io/v1alpha1): settings every matching workload gets. <c>SecretEnv</c> refs are subject to SecretPolicy like any other.</summary>
public sealed record ConfigProfile(
    string Name,
    ProfileSelector? Selector,
    IReadOnlyDictionary<string, string> Env,
    IReadOnlyDictionary<string, SecretReference> SecretEnv);
