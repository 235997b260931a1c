using ConfigInjector.Core.Policies;

namespace ConfigInjector.Policies;

/// <summary>The policies admission decides with; swapped atomically when their source changes.</summary>
internal interface IPolicySource
{
    IReadOnlyList<SecretPolicy> Current { get; }

    IReadOnlyList<ConfigProfile> Profiles { get; }

    /// <summary>False until the source has been read once: admission would otherwise deny everything by default.</summary>
    bool Ready { get; }
}
