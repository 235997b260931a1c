using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;

namespace ConfigInjector.Core.Planning;

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
    IReadOnlyList<string> Warnings)
{
    /// <summary>Keyless refs read whole (<c>secrets-from</c>, <c>file-from.</c>), decided on the path alone: each key is checked once read.</summary>
    public IReadOnlyDictionary<SecretReference, PolicyDecision> PathDecisions { get; init; } = new Dictionary<SecretReference, PolicyDecision>();
}
