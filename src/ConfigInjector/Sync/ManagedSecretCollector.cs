using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Planning;
using ConfigInjector.ManagedSecrets;
using k8s.Models;

namespace ConfigInjector.Sync;

/// <summary>
/// Managed Secrets without an owner — those of bare pods, which had no UID at admission — are adopted by the pods
/// that use them, so Kubernetes garbage-collects them with the pod; one that no pod uses after a grace period is
/// deleted. Only Secrets labelled as managed are ever touched, and never those printed by <c>inject</c>, whose
/// lifecycle is their manifests'. A label is no proof (anyone who may edit Secrets can set it, and so get any Secret
/// of the namespace adopted or deleted): only Secrets whose signature verifies are touched.
/// </summary>
internal sealed partial class ManagedSecretCollector(ISyncCluster cluster, ISigningKey signingKey, SyncSettings settings, TimeProvider time, ILogger<ManagedSecretCollector> log)
{
    public async Task<(int Adopted, int Deleted)> CollectAsync(IReadOnlyCollection<V1Secret> secrets, CancellationToken cancellationToken)
    {
        var adopted = 0;
        var deleted = 0;
        var podsByNamespace = new Dictionary<string, IList<V1Pod>>(StringComparer.Ordinal);
        var keys = await signingKey.GetAsync(cancellationToken);
        foreach (var cached in secrets.Where(s => ManagedSecretFactory.IsManaged(s) && !ManagedSecretFactory.HasManualLifecycle(s) && !Owned(s)))
        {
            // A kept Secret was verified when it arrived (and is checked again below, once read whole).
            if (cached is not KeptSecret && !ManagedSecretFactory.IsAuthentic(cached, keys))
                continue;
            // A copy kept without its values (kept as digests, or the keys were not loaded yet when it arrived) is read
            // again: writing it back as it is would clear the Secret's data.
            V1Secret secret;
            try
            {
                secret = cached.Data is not null ? ManagedSecretFactory.Copy(cached) : await cluster.ReadSecretAsync(cached.Metadata.NamespaceProperty, cached.Metadata.Name, cancellationToken);
            }
            catch (ClusterApiException e) when (e.IsNotFound)
            {
                continue;
            }
            if (!ManagedSecretFactory.IsAuthentic(secret, keys))
                continue;
            var ns = secret.Metadata.NamespaceProperty;
            if (!podsByNamespace.TryGetValue(ns, out var pods))
                podsByNamespace[ns] = pods = await cluster.ListPodsAsync(ns, cancellationToken);
            var users = pods.Where(p => p.Metadata.Annotations?.TryGetValue(AnnotationKeys.ManagedSecret, out var name) == true && name == secret.Metadata.Name).ToList();
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                if (users.Count > 0)
                {
                    ManagedSecretFactory.SetOwners(secret, [.. users.Select(p => new V1OwnerReference { ApiVersion = "v1", Kind = "Pod", Name = p.Metadata.Name, Uid = p.Metadata.Uid })]);
                    ManagedSecretSignature.Apply(keys.Current, secret);
                    await cluster.ReplaceSecretAsync(secret, cancellationToken);
                    adopted++;
                    LogAdopted(log, ns, secret.Metadata.Name, users[0].Metadata.Name);
                }
                else if (time.GetUtcNow() - (secret.Metadata.CreationTimestamp ?? time.GetUtcNow().UtcDateTime) > settings.AdoptionGracePeriod)
                {
                    await cluster.DeleteSecretAsync(secret, cancellationToken);
                    deleted++;
                    LogDeleted(log, ns, secret.Metadata.Name);
                }
            }
            catch (ClusterApiException e) when (e.IsConflict || e.IsNotFound)
            {
                // Changed or gone since the informer saw it: the next pass looks again.
            }
        }
        return (adopted, deleted);
    }

    private static bool Owned(V1Secret secret) => secret is KeptSecret kept ? kept.Owned : secret.Metadata.OwnerReferences is { Count: > 0 };

    [LoggerMessage(Level = LogLevel.Information, Message = "managed Secret {Namespace}/{Name} adopted by pod {Pod}")]
    private static partial void LogAdopted(ILogger logger, string @namespace, string name, string pod);

    [LoggerMessage(Level = LogLevel.Information, Message = "managed Secret {Namespace}/{Name} deleted: no pod uses it")]
    private static partial void LogDeleted(ILogger logger, string @namespace, string name);
}
