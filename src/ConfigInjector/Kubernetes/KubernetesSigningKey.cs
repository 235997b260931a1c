using System.Net;
using System.Security.Cryptography;
using ConfigInjector.Core.Planning;
using ConfigInjector.ManagedSecrets;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace ConfigInjector.Kubernetes;

/// <summary>
/// The keys shared by every replica: the Secret <c>&lt;release&gt;-signing-key</c> in the injector's own namespace,
/// created by whichever replica needs it first (a 409 means another one won the race: read theirs). Its <c>key</c>
/// signs; a <c>previous</c> key is still accepted, so the key can be rotated without a moment in which replicas
/// disagree (README: rotating the signing key). Re-read every minute, and sooner when a signature fails.
/// </summary>
internal sealed class KubernetesSigningKey(IKubernetes client, string @namespace, string secretName, KubernetesTimings timings, TimeProvider time) : ISigningKey, IDisposable
{
    public const string CurrentKey = "key";
    public const string PreviousKey = "previous";

    private readonly SemaphoreSlim _gate = new(1, 1);

    public void Dispose() => _gate.Dispose();
    private volatile SigningKeys? _keys;
    private DateTimeOffset _loadedAt;

    public ValueTask<SigningKeys> GetAsync(CancellationToken cancellationToken) =>
        _keys is { } known && time.GetUtcNow() - _loadedAt < timings.SigningKeyRereadEvery ? ValueTask.FromResult(known) : new(LoadAsync(timings.SigningKeyRereadEvery, cancellationToken));

    public ValueTask<SigningKeys> RefreshAsync(CancellationToken cancellationToken) => new(LoadAsync(timings.SigningKeyRereadAtMostEvery, cancellationToken));

    private async Task<SigningKeys> LoadAsync(TimeSpan olderThan, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_keys is { } known && time.GetUtcNow() - _loadedAt < olderThan)
                return known;
            try
            {
                _keys = await LoadOrCreateAsync(cancellationToken);
                _loadedAt = time.GetUtcNow();
            }
            catch (Exception e) when (_keys is not null && e is HttpOperationException or HttpRequestException or IOException or ManagedSecretException)
            {
                // The API server is briefly away: keep verifying with the keys we have, and try again next time.
                _loadedAt = time.GetUtcNow() - olderThan + timings.SigningKeyRereadAtMostEvery;
            }
            return _keys;
        }
        catch (Exception e) when (e is HttpOperationException or HttpRequestException or IOException)
        {
            throw new ManagedSecretException(KubernetesErrors.Describe(e, "get or create", "secrets", @namespace) + $" (the signing key {secretName})");
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<SigningKeys> LoadOrCreateAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var existing = await client.CoreV1.ReadNamespacedSecretAsync(secretName, @namespace, cancellationToken: cancellationToken);
                if (existing.Data?.TryGetValue(CurrentKey, out var key) != true || key!.Length < 32)
                    throw new ManagedSecretException($"Secret {@namespace}/{secretName} holds no 32-byte \"{CurrentKey}\"");
                var previous = existing.Data.TryGetValue(PreviousKey, out var old) && old.Length >= 32 ? new[] { old } : [];
                return new SigningKeys(key, previous);
            }
            catch (HttpOperationException e) when (e.Response?.StatusCode == HttpStatusCode.NotFound && attempt < 2)
            {
            }
            try
            {
                var created = await client.CoreV1.CreateNamespacedSecretAsync(new V1Secret
                {
                    Metadata = new V1ObjectMeta { Name = secretName, NamespaceProperty = @namespace },
                    Type = "Opaque",
                    Data = new Dictionary<string, byte[]> { [CurrentKey] = RandomNumberGenerator.GetBytes(32) },
                }, @namespace, cancellationToken: cancellationToken);
                return SigningKeys.Single(created.Data[CurrentKey]);
            }
            catch (HttpOperationException e) when (e.Response?.StatusCode == HttpStatusCode.Conflict)
            {
                // Another replica created it first: read theirs.
            }
        }
    }
}
