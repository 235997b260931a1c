namespace ConfigInjector.Backends;

/// <summary>
/// The key content versions are made with (<see cref="Core.Secrets.ContentVersion"/>): the same in every process of
/// one install. In a cluster it comes from the install's signing-key Secret; without one, from a key file kept next
/// to the development certificate.
/// </summary>
internal interface IVersionKey
{
    /// <summary>The derived HMAC key.</summary>
    /// <exception cref="ManagedSecrets.ManagedSecretException">The key cannot be read (yet): a read that needs it fails as an outage.</exception>
    ValueTask<byte[]> GetAsync(CancellationToken cancellationToken);
}

/// <summary>A given seed (tests, benchmarks).</summary>
internal sealed class StaticVersionKey(byte[] seed) : IVersionKey
{
    private readonly byte[] _key = Core.Secrets.ContentVersion.DeriveKey(seed);

    public ValueTask<byte[]> GetAsync(CancellationToken cancellationToken) => ValueTask.FromResult(_key);
}
