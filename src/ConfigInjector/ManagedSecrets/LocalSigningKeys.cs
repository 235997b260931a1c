using System.Security.Cryptography;
using ConfigInjector.Core.Planning;

namespace ConfigInjector.ManagedSecrets;

/// <summary>A key of this process alone: enough where no other replica or worker has to verify (the in-process store, <c>inject</c>).</summary>
internal sealed class ProcessSigningKey : ISigningKey
{
    private readonly SigningKeys _keys = SigningKeys.Single(RandomNumberGenerator.GetBytes(32));

    public ValueTask<SigningKeys> GetAsync(CancellationToken cancellationToken) => ValueTask.FromResult(_keys);

    public ValueTask<SigningKeys> RefreshAsync(CancellationToken cancellationToken) => GetAsync(cancellationToken);
}

/// <summary>Given keys (benchmarks and tests that write managed Secrets themselves).</summary>
internal sealed class StaticSigningKey(byte[] key, params byte[][] previous) : ISigningKey
{
    public ValueTask<SigningKeys> GetAsync(CancellationToken cancellationToken) => ValueTask.FromResult(new SigningKeys(key, previous));

    public ValueTask<SigningKeys> RefreshAsync(CancellationToken cancellationToken) => GetAsync(cancellationToken);
}
