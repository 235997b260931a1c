using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;

namespace ConfigInjector.Backends;

/// <summary>
/// The one interface every secret backend implements: read one location, honour cancellation.
/// Not-found is a <see cref="SecretRead"/> value; only unexpected failures throw.
/// Results and exception messages must never carry a secret value.
/// </summary>
public interface ISecretBackend
{
    string Name { get; }

    ValueTask<SecretRead> ReadAsync(SecretLocation location, CancellationToken cancellationToken);
}
