using ConfigInjector.Core.Planning;
using ConfigInjector.ManagedSecrets;
using ConfigInjector.Sync;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace ConfigInjector.Kubernetes;

/// <summary>
/// Managed Secrets through the Kubernetes API: create, or on 409 read, compare and reuse or update (guarded by
/// resourceVersion, retried on conflict). A Secret with the same name that ConfigInjector does not manage is never touched.
/// </summary>
internal sealed partial class KubernetesManagedSecretStore : IManagedSecretStore
{
    private const int Attempts = 4;

    // Pods of one ReplicaSet arrive in bursts: once this replica has written (or confirmed) a Secret for an owner,
    // the next pods of that owner need no create → 409 → read round trips.
    private const int AppliedCapacity = 10_000;
    // (owner, when that write began); a null owner marks a deletion seen at that time.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Namespace, string Name), (string? Owner, DateTimeOffset At)> _applied = new();
    private readonly IKubernetes _client;
    private readonly ISigningKey _signingKey;
    private readonly KubernetesTimings _timings;
    private readonly TimeProvider _time;
    private readonly ILogger<KubernetesManagedSecretStore> _log;

    /// <param name="watch">
    /// The process's watch over managed Secrets (absent without the sync worker): a Secret deleted since this replica
    /// wrote it is written again by the next pod of its owner, instead of that pod waiting for a Secret that is gone.
    /// </param>
    public KubernetesManagedSecretStore(IKubernetes client, ISigningKey signingKey, KubernetesTimings timings, TimeProvider time, ILogger<KubernetesManagedSecretStore> log, ManagedSecretWatch? watch = null)
    {
        _client = client;
        _signingKey = signingKey;
        _timings = timings;
        _time = time;
        _log = log;
        watch?.Informer.Changed += (type, secret) =>
        {
            if (type == WatchEventType.Deleted && secret.Metadata is { } deleted)
                Forget(deleted.NamespaceProperty, deleted.Name);
        };
    }

    /// <summary>
    /// The Secret is gone: the next pod of its owner writes it again. A mark, not a removal, so a write of it that was
    /// already on its way when the deletion was seen does not take the Secret as written again.
    /// </summary>
    public void Forget(string ns, string name)
    {
        if (_applied.Count < AppliedCapacity)
            _applied[(ns, name)] = (null, _time.GetUtcNow());
        else
            _applied.TryRemove((ns, name), out _);
    }

    public async Task ApplyAsync(V1Secret secret, CancellationToken cancellationToken)
    {
        var ns = secret.Metadata.NamespaceProperty;
        var name = secret.Metadata.Name;
        var owner = secret.Metadata.OwnerReferences?.FirstOrDefault()?.Uid;
        var began = _time.GetUtcNow();
        if (owner is not null && _applied.TryGetValue((ns, name), out var applied) && applied.Owner == owner && began - applied.At < _timings.RecentlyApplied)
            return;
        await ApplyToApiAsync(secret, ns, name, cancellationToken);
        if (owner is not null)
        {
            // Only recent entries matter: forget the old ones rather than grow with every owner ever seen.
            if (_applied.Count >= AppliedCapacity)
            {
                foreach (var old in _applied.Where(a => _time.GetUtcNow() - a.Value.At >= _timings.RecentlyApplied).ToList())
                    _applied.TryRemove(old.Key, out _);
                // A burst of distinct owners (a cluster-wide rollout, a tenant making workloads) must not grow it
                // either: forgetting costs the next pod of an owner one create that answers 409.
                if (_applied.Count >= AppliedCapacity)
                    _applied.Clear();
            }
            _applied.AddOrUpdate((ns, name), (owner, began), (_, seen) => seen.Owner is null && seen.At >= began ? seen : (owner, began));
        }
    }

    private async Task ApplyToApiAsync(V1Secret secret, string ns, string name, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await _client.CoreV1.CreateNamespacedSecretAsync(secret, ns, cancellationToken: cancellationToken);
                LogCreated(_log, ns, name, secret.Data?.Count ?? 0);
                return;
            }
            catch (HttpOperationException e) when (KubernetesErrors.IsConflict(e))
            {
                // Exists already: another pod of the same ReplicaSet, or a retry of this admission.
            }
            catch (Exception e) when (e is HttpOperationException or HttpRequestException or IOException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                throw new ManagedSecretException(KubernetesErrors.Describe(e, "create", "secrets", ns));
            }

            try
            {
                var existing = await _client.CoreV1.ReadNamespacedSecretAsync(name, ns, cancellationToken: cancellationToken);
                if (!ManagedSecretFactory.IsManaged(existing))
                    throw new ManagedSecretException($"Secret {ns}/{name} exists and is not managed by config-injector; refusing to change it");
                // Names are predictable: a Secret planted under one must not feed this pod. A signature that fails may
                // be one made with a key just rotated in by another replica: read the keys again before refusing.
                var keys = await _signingKey.GetAsync(cancellationToken);
                if (!ManagedSecretFactory.IsAuthentic(existing, keys) && !ManagedSecretFactory.IsAuthentic(existing, keys = await _signingKey.RefreshAsync(cancellationToken)))
                    throw new ManagedSecretException($"Secret {ns}/{name} exists but was not written by config-injector (its signature does not match); refusing to use it");
                var merged = Merge(existing, secret, keys.Current);
                if (merged is null)
                    return;
                await _client.CoreV1.ReplaceNamespacedSecretAsync(merged, name, ns, cancellationToken: cancellationToken);
                LogUpdated(_log, ns, name);
                return;
            }
            catch (HttpOperationException e) when ((KubernetesErrors.IsConflict(e) || KubernetesErrors.IsNotFound(e)) && attempt < Attempts)
            {
                // Changed or deleted between our read and write: start over from a fresh read.
            }
            catch (Exception e) when (e is HttpOperationException or HttpRequestException or IOException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                throw new ManagedSecretException(KubernetesErrors.Describe(e, "update", "secrets", ns));
            }
        }
    }

    /// <summary>
    /// The existing Secret with the wanted owners added, or null when it has them all. Its data is left alone: the
    /// same name means the same keys and refs, and the existing values may be newer than this replica's cache
    /// (the sync worker keeps them current), so an admission never rolls a rotation back.
    /// </summary>
    public static V1Secret? Merge(V1Secret existing, V1Secret wanted, byte[] signingKey)
    {
        var owners = (existing.Metadata.OwnerReferences ?? []).ToList();
        foreach (var owner in wanted.Metadata.OwnerReferences ?? [])
        {
            if (!owners.Any(o => o.Uid == owner.Uid))
                owners.Add(owner);
        }
        if (owners.Count == (existing.Metadata.OwnerReferences?.Count ?? 0))
            return null;
        // The owners are signed (restarts follow them): the new list gets a new signature.
        ManagedSecretFactory.SetOwners(existing, owners);
        ManagedSecretSignature.Upgrade(signingKey, existing);
        return existing;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "managed Secret {Namespace}/{Name} created ({Keys} keys)")]
    private static partial void LogCreated(ILogger logger, string @namespace, string name, int keys);

    [LoggerMessage(Level = LogLevel.Information, Message = "managed Secret {Namespace}/{Name} updated")]
    private static partial void LogUpdated(ILogger logger, string @namespace, string name);
}
