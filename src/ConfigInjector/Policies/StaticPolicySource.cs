using ConfigInjector.Core.Policies;

namespace ConfigInjector.Policies;

/// <summary>Policies given once and never changed: the admission warm-up's own, and benchmarks'.</summary>
internal sealed class StaticPolicySource(params SecretPolicy[] policies) : IPolicySource
{
    public IReadOnlyList<SecretPolicy> Current { get; } = policies;
    public IReadOnlyList<ConfigProfile> Profiles { get; } = [];
    public bool Ready => true;
}
