using ConfigInjector.Core.Planning;
using ConfigInjector.Kubernetes;
using k8s;
using k8s.Models;

namespace ConfigInjector.Sync;

/// <summary>An informer over every Secret labelled <c>app.kubernetes.io/managed-by=config-injector</c>, cluster-wide.</summary>
public static class ManagedSecretInformer
{
    public static Informer<V1Secret> Create(IKubernetes client, TimeProvider time, ILogger log) => new(
        "managed secrets",
        async ct =>
        {
            var list = await client.CoreV1.ListSecretForAllNamespacesAsync(labelSelector: ManagedSecretFactory.ManagedBySelector, cancellationToken: ct);
            return (list.Items, list.Metadata?.ResourceVersion);
        },
        (resourceVersion, onError, ct) => client.CoreV1.WatchListSecretForAllNamespacesAsync(
            allowWatchBookmarks: true, labelSelector: ManagedSecretFactory.ManagedBySelector, resourceVersion: resourceVersion, onError: onError, cancellationToken: ct),
        time,
        log);
}
