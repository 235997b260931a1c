using ConfigInjector.Core.References;

namespace ConfigInjector.Core.Policies;

/// <summary>Where a profile applies by itself: namespace globs and pod labels that must all be equal. Null = only by name.</summary>
public sealed record ProfileSelector(IReadOnlyList<string> Namespaces, IReadOnlyDictionary<string, string> PodLabels)
{
    // Loops, not Any()/All(): every admission asks every profile, and a lambda over the arguments would be allocated each time.
    public bool Matches(string @namespace, IReadOnlyDictionary<string, string>? labels)
    {
        var inNamespace = false;
        for (var i = 0; i < Namespaces.Count && !inNamespace; i++)
            inNamespace = Glob.MatchName(Namespaces[i], @namespace);
        if (!inNamespace)
            return false;
        foreach (var (key, wanted) in PodLabels)
        {
            if (labels?.TryGetValue(key, out var value) != true || value != wanted)
                return false;
        }
        return true;
    }
}

/// <summary>A ConfigProfile (configinjector.io/v1alpha1): settings every matching workload gets. <c>SecretEnv</c> refs are subject to SecretPolicy like any other.</summary>
public sealed record ConfigProfile(
    string Name,
    ProfileSelector? Selector,
    IReadOnlyDictionary<string, string> Env,
    IReadOnlyDictionary<string, SecretReference> SecretEnv);
