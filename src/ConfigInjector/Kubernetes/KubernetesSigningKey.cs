using System.Net;
using System.Security.Cryptography;
using ConfigInjector.Backends;
using ConfigInjector.Core.Planning;
using ConfigInjector.Core.Secrets;
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
/// The same Secret holds <c>versions</c>, the seed of the content-version key (<see cref="IVersionKey"/>): it is not
/// rotated with the signing key, so versions stay what they were when <c>key</c> changes; an install whose Secret
/// predates it gets one added (a resourceVersion-guarded update). <paramref name="readOnly"/> (the CLI) never writes.
/// </summary>
internal sealed class KubernetesSigningKey(IKubernetes client, string @namespace, string secretName, KubernetesTimings timings, TimeProvider time, bool readOnly = false) : ISigningKey, IVersionKey, IDisposable
{
    public const string CurrentKey = "key";
    public const string PreviousKey = "previous";
    public const string VersionsKey = "versions";
    private const int KeyBytes = 32;

    private readonly SemaphoreSlim _gate = new(1, 1);

    public void Dispose() => _gate.Dispose();
    private sealed record Loaded(SigningKeys Keys, byte[] VersionKey);

    private volatile Loaded? _loaded;
    private DateTimeOffset _loadedAt;

    public async ValueTask<SigningKeys> GetAsync(CancellationToken cancellationToken) => (await CurrentAsync(cancellationToken)).Keys;

    public async ValueTask<SigningKeys> RefreshAsync(CancellationToken cancellationToken) => (await LoadAsync(timings.SigningKeyRereadAtMostEvery, cancellationToken)).Keys;

    async ValueTask<byte[]> IVersionKey.GetAsync(CancellationToken cancellationToken) => (await CurrentAsync(cancellationToken)).VersionKey;

    private ValueTask<Loaded> CurrentAsync(CancellationToken cancellationToken) =>
        _loaded is { } known && time.GetUtcNow() - _loadedAt < timings.SigningKeyRereadEvery ? ValueTask.FromResult(known) : new(LoadAsync(timings.SigningKeyRereadEvery, cancellationToken));

    private async Task<Loaded> LoadAsync(TimeSpan olderThan, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_loaded is { } known && time.GetUtcNow() - _loadedAt < olderThan)
                return known;
            try
            {
                _loaded = await LoadOrCreateAsync(cancellationToken);
                _loadedAt = time.GetUtcNow();
            }
            catch (Exception e) when (_loaded is not null && e is HttpOperationException or HttpRequestException or IOException or ManagedSecretException)
            {
                // The API server is briefly away: keep verifying with the keys we have, and try again next time.
                _loadedAt = time.GetUtcNow() - olderThan + timings.SigningKeyRereadAtMostEvery;
            }
            return _loaded;
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

    private async Task<Loaded> LoadOrCreateAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var existing = await client.CoreV1.ReadNamespacedSecretAsync(secretName, @namespace, cancellationToken: cancellationToken);
                if (existing.Data?.TryGetValue(CurrentKey, out var key) != true || key!.Length < KeyBytes)
                    throw new ManagedSecretException($"Secret {@namespace}/{secretName} holds no 32-byte \"{CurrentKey}\"");
                var previous = existing.Data.TryGetValue(PreviousKey, out var old) && old.Length >= KeyBytes ? new[] { old } : [];
                if (existing.Data.TryGetValue(VersionsKey, out var seed) && seed.Length >= KeyBytes)
                    return new Loaded(new SigningKeys(key, previous), ContentVersion.DeriveKey(seed));
                if (readOnly)
                    throw new ManagedSecretException($"Secret {@namespace}/{secretName} holds no \"{VersionsKey}\" yet (a serve replica of this release adds it when it starts)");
                // Made before versions were keyed per install: add the seed, unless another replica does it first.
                existing.Data[VersionsKey] = RandomNumberGenerator.GetBytes(KeyBytes);
                await client.CoreV1.ReplaceNamespacedSecretAsync(existing, secretName, @namespace, cancellationToken: cancellationToken);
                continue;
            }
            catch (HttpOperationException e) when (e.Response?.StatusCode == HttpStatusCode.Conflict && attempt < 4)
            {
                // Another replica added the seed since our read: read theirs.
                continue;
            }
            catch (HttpOperationException e) when (e.Response?.StatusCode == HttpStatusCode.NotFound && attempt < 2 && !readOnly)
            {
            }
            try
            {
                var created = await client.CoreV1.CreateNamespacedSecretAsync(new V1Secret
                {
                    Metadata = new V1ObjectMeta { Name = secretName, NamespaceProperty = @namespace },
                    Type = "Opaque",
                    Data = new Dictionary<string, byte[]> { [CurrentKey] = RandomNumberGenerator.GetBytes(KeyBytes), [VersionsKey] = RandomNumberGenerator.GetBytes(KeyBytes) },
                }, @namespace, cancellationToken: cancellationToken);
                return new Loaded(SigningKeys.Single(created.Data[CurrentKey]), ContentVersion.DeriveKey(created.Data[VersionsKey]));
            }
            catch (HttpOperationException e) when (e.Response?.StatusCode == HttpStatusCode.Conflict)
            {
                // Another replica created it first: read theirs.
            }
        }
    }
}
