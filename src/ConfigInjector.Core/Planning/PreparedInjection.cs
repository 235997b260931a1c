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
    IReadOnlyList<string> Warnings);
