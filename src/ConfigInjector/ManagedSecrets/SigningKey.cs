using System.Net;
using System.Security.Cryptography;
using ConfigInjector.Kubernetes;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace ConfigInjector.ManagedSecrets;

/// <summary>The key managed Secrets are signed with (see <c>ManagedSecretSignature</c>).</summary>
public interface ISigningKey
{
    ValueTask<byte[]> GetAsync(CancellationToken cancellationToken);
}

/// <summary>A key of this process alone: enough where no other replica or worker has to verify (the in-process store, <c>inject</c>).</summary>
public sealed class ProcessSigningKey : ISigningKey
{
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);

    public ValueTask<byte[]> GetAsync(CancellationToken cancellationToken) => ValueTask.FromResult(_key);
}

/// <summary>A given key (benchmarks and tests that write managed Secrets themselves).</summary>
public sealed class StaticSigningKey(byte[] key) : ISigningKey
{
    public ValueTask<byte[]> GetAsync(CancellationToken cancellationToken) => ValueTask.FromResult(key);
}

/// <summary>
/// The key shared by every replica: a Secret in the injector's own namespace, created by whichever replica needs
/// it first (a 409 means another one won the race: read theirs). Read once per process.
/// </summary>
public sealed class KubernetesSigningKey(IKubernetes client, string @namespace) : ISigningKey
{
    public const string SecretName = "config-injector-signing-key";
    private readonly SemaphoreSlim _gate = new(1, 1);
    private byte[]? _key;

    public async ValueTask<byte[]> GetAsync(CancellationToken cancellationToken)
    {
        if (_key is { } known)
            return known;
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return _key ??= await LoadOrCreateAsync(cancellationToken);
        }
        catch (Exception e) when (e is HttpOperationException or HttpRequestException or IOException)
        {
            throw new ManagedSecretException(KubernetesErrors.Describe(e, "get or create", "secrets", @namespace) + $" (the signing key {SecretName})");
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<byte[]> LoadOrCreateAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var existing = await client.CoreV1.ReadNamespacedSecretAsync(SecretName, @namespace, cancellationToken: cancellationToken);
                if (existing.Data?.TryGetValue("key", out var key) == true && key.Length >= 32)
                    return key;
                throw new ManagedSecretException($"Secret {@namespace}/{SecretName} holds no 32-byte \"key\"");
            }
            catch (HttpOperationException e) when (e.Response?.StatusCode == HttpStatusCode.NotFound && attempt < 2)
            {
            }
            try
            {
                var created = await client.CoreV1.CreateNamespacedSecretAsync(new V1Secret
                {
                    Metadata = new V1ObjectMeta { Name = SecretName, NamespaceProperty = @namespace },
                    Type = "Opaque",
                    Data = new Dictionary<string, byte[]> { ["key"] = RandomNumberGenerator.GetBytes(32) },
                }, @namespace, cancellationToken: cancellationToken);
                return created.Data["key"];
            }
            catch (HttpOperationException e) when (e.Response?.StatusCode == HttpStatusCode.Conflict)
            {
                // Another replica created it first: read theirs.
            }
        }
    }
}
