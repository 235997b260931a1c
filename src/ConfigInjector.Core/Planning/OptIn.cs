using ConfigInjector.Core.Annotations;

namespace ConfigInjector.Core.Planning;

/// <summary>Whether a pod is ours to mutate (DESIGN.md §2 opt-in rules).</summary>
public static class OptInRules
{
    public static bool ShouldInject(InjectionRequest request, bool namespaceOptedIn) =>
        !request.AlreadyInjected &&
        (request.Inject == OptIn.Yes || (namespaceOptedIn && request.Inject != OptIn.No));

    /// <summary>True when a pod asks for values but did not opt in: worth a warning, never a silent no-op.</summary>
    public static bool AsksWithoutOptIn(InjectionRequest request, bool namespaceOptedIn) =>
        !request.AlreadyInjected && request.Inject == OptIn.Unset && !namespaceOptedIn &&
        (request.Env.Count > 0 || request.Files.Count > 0 || request.SecretsFrom is not null);
}
