using ConfigInjector.Core.Planning;

namespace ConfigInjector.ManagedSecrets;

/// <summary>The keys managed Secrets are signed and verified with (see <c>ManagedSecretSignature</c>).</summary>
internal interface ISigningKey
{
    ValueTask<SigningKeys> GetAsync(CancellationToken cancellationToken);

    /// <summary>A signature did not verify: read the keys again (at most now and then), in case they were rotated.</summary>
    ValueTask<SigningKeys> RefreshAsync(CancellationToken cancellationToken);
}
