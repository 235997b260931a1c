using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;

namespace ConfigInjector.Core.Report;

/// <summary>
/// Which paths the report must never read from their backend: those in a lease-issuing engine. A read there would be
/// refused as not KV, and an issue would mint a credential just to look at it.
/// </summary>
public static class DynamicLocations
{
    /// <summary>
    /// Whether some SecretPolicy rule marks the path <c>dynamic: true</c>, whoever the rule's subjects are: the engine
    /// behind a path is the same for every reader.
    /// </summary>
    public static bool MarkedByPolicy(IReadOnlyList<SecretPolicy> policies, SecretLocation location) =>
        policies.Any(p => p.Rules.Any(r => r.Dynamic && r.Backend == location.Backend && r.Paths.Any(g => Glob.MatchPath(g, location.Path))));
}
