using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConfigInjector.Core.Planning;
using ConfigInjector.Sync;
using k8s;
using k8s.Models;

namespace ConfigInjector.Kubernetes;

/// <summary>The sync worker's gateway to the API server: each call, its errors in one line, and Events.</summary>
internal sealed class KubernetesSyncCluster(IKubernetes client, EventRecorder events) : ISyncCluster
{
    public Task<ListPage<V1Secret>> ListManagedSecretsAsync(string? continueToken, int limit, Func<V1Secret, V1Secret> keep, CancellationToken cancellationToken) =>
        StreamingList.ReadAsync(client, "api/v1/secrets", "secrets", ManagedSecretFactory.ManagedBySelector, continueToken, limit,
            element => KeepFrom(element, keep), cancellationToken);

    /// <summary>
    /// Decides on the metadata first (the signature covers nothing else): a Secret kept as a stub never has its data
    /// (up to 1 MiB, anyone's to set) turned into objects at all.
    /// </summary>
    private static V1Secret KeepFrom(JsonElement element, Func<V1Secret, V1Secret> keep)
    {
        var head = new V1Secret
        {
            ApiVersion = element.TryGetProperty("apiVersion", out var apiVersion) ? apiVersion.GetString() : null,
            Kind = element.TryGetProperty("kind", out var kind) ? kind.GetString() : null,
            Metadata = element.TryGetProperty("metadata", out var metadata) ? KubernetesJson.Deserialize<V1ObjectMeta>(metadata) : null,
        };
        var kept = keep(head);
        return ManagedSecretInformer.IsStub(kept) ? kept : keep(KubernetesJson.Deserialize<V1Secret>(element));
    }

    public IAsyncEnumerable<(WatchEventType Type, V1Secret Secret)> WatchManagedSecretsAsync(string resourceVersion, Action<Exception> onError, CancellationToken cancellationToken) =>
        WatchStream.ReadAsync(client, "api/v1/secrets", "secrets", resourceVersion, ManagedSecretFactory.ManagedBySelector,
            static element => KubernetesJson.Deserialize<V1Secret>(element), onError, cancellationToken);

    public Task<V1Secret> ReadSecretAsync(string namespaceName, string name, CancellationToken cancellationToken) =>
        KubernetesErrors.Call(() => client.CoreV1.ReadNamespacedSecretAsync(name, namespaceName, cancellationToken: cancellationToken), "get", "secrets", namespaceName);

    public Task ReplaceSecretAsync(V1Secret secret, CancellationToken cancellationToken) =>
        KubernetesErrors.Call(() => client.CoreV1.ReplaceNamespacedSecretAsync(secret, secret.Metadata.Name, secret.Metadata.NamespaceProperty, cancellationToken: cancellationToken),
            "update", "secrets", secret.Metadata.NamespaceProperty);

    public Task DeleteSecretAsync(V1Secret secret, CancellationToken cancellationToken)
    {
        var preconditions = new V1DeleteOptions { Preconditions = new V1Preconditions { ResourceVersion = secret.Metadata.ResourceVersion, Uid = secret.Metadata.Uid } };
        return KubernetesErrors.Call(() => client.CoreV1.DeleteNamespacedSecretAsync(secret.Metadata.Name, secret.Metadata.NamespaceProperty, preconditions, cancellationToken: cancellationToken),
            "delete", "secrets", secret.Metadata.NamespaceProperty);
    }

    public async Task<IList<V1Pod>> ListPodsAsync(string namespaceName, CancellationToken cancellationToken) =>
        (await KubernetesErrors.Call(() => client.CoreV1.ListNamespacedPodAsync(namespaceName, cancellationToken: cancellationToken), "list", "pods", namespaceName)).Items;

    public async Task<ListPage<V1Pod>> ListAllPodsAsync(string? continueToken, int limit, CancellationToken cancellationToken)
    {
        var page = await KubernetesErrors.Call(() => client.CoreV1.ListPodForAllNamespacesAsync(limit: limit, continueParameter: continueToken, cancellationToken: cancellationToken), "list", "pods", null);
        return new(page.Items.AsReadOnly(), page.Metadata?.ResourceVersion, page.Metadata?.ContinueProperty);
    }

    public async Task<V1ObjectMeta> RestartAsync(Workload workload, DateTimeOffset restartedAt, CancellationToken cancellationToken)
    {
        var stamp = restartedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var body = new JsonObject { ["spec"] = new JsonObject { ["template"] = new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [WorkloadRestarter.RestartedAtAnnotation] = stamp } } } } };
        var patch = new V1Patch(body.ToJsonString(), V1Patch.PatchType.MergePatch);
        var (name, ns) = (workload.Name, workload.Namespace);
        return await KubernetesErrors.Call<V1ObjectMeta>(async () => workload.Kind switch
        {
            "Deployment" => (await client.AppsV1.PatchNamespacedDeploymentAsync(patch, name, ns, cancellationToken: cancellationToken)).Metadata,
            "StatefulSet" => (await client.AppsV1.PatchNamespacedStatefulSetAsync(patch, name, ns, cancellationToken: cancellationToken)).Metadata,
            _ => (await client.AppsV1.PatchNamespacedDaemonSetAsync(patch, name, ns, cancellationToken: cancellationToken)).Metadata,
        }, "patch", workload.Kind.ToLowerInvariant() + "s", ns);
    }

    public async Task<bool> IsRolledOutAsync(Workload workload, CancellationToken cancellationToken)
    {
        var (name, ns) = (workload.Name, workload.Namespace);
        try
        {
            return await KubernetesErrors.Call(async () =>
            {
                switch (workload.Kind)
                {
                    case "Deployment":
                        var d = await client.AppsV1.ReadNamespacedDeploymentAsync(name, ns, cancellationToken: cancellationToken);
                        var want = d.Spec?.Replicas ?? 1;
                        // Counts of zero are omitted from the status: null means 0 (a Deployment scaled to zero is done at once).
                        return d.Status?.ObservedGeneration >= d.Metadata.Generation && (d.Status.UpdatedReplicas ?? 0) == want && (d.Status.AvailableReplicas ?? 0) == want && (d.Status.Replicas ?? 0) == want;
                    case "StatefulSet":
                        var s = await client.AppsV1.ReadNamespacedStatefulSetAsync(name, ns, cancellationToken: cancellationToken);
                        var replicas = s.Spec?.Replicas ?? 1;
                        return s.Status?.ObservedGeneration >= s.Metadata.Generation && (s.Status.UpdatedReplicas ?? 0) == replicas && (s.Status.ReadyReplicas ?? 0) == replicas;
                    default:
                        var ds = await client.AppsV1.ReadNamespacedDaemonSetAsync(name, ns, cancellationToken: cancellationToken);
                        return ds.Status?.ObservedGeneration >= ds.Metadata.Generation && (ds.Status.UpdatedNumberScheduled ?? 0) == ds.Status.DesiredNumberScheduled && (ds.Status.NumberAvailable ?? 0) == ds.Status.DesiredNumberScheduled;
                }
            }, "get", workload.Kind.ToLowerInvariant() + "s", ns);
        }
        catch (ClusterApiException e) when (e.IsNotFound)
        {
            return true;
        }
    }

    public async Task<WorkloadState?> ReadWorkloadAsync(Workload workload, CancellationToken cancellationToken)
    {
        var (name, ns) = (workload.Name, workload.Namespace);
        try
        {
            return await KubernetesErrors.Call(async () =>
            {
                var (metadata, selector, template) = workload.Kind switch
                {
                    "Deployment" => await client.AppsV1.ReadNamespacedDeploymentAsync(name, ns, cancellationToken: cancellationToken) is var d ? (d.Metadata, d.Spec?.Selector, d.Spec?.Template) : default,
                    "StatefulSet" => await client.AppsV1.ReadNamespacedStatefulSetAsync(name, ns, cancellationToken: cancellationToken) is var s ? (s.Metadata, s.Spec?.Selector, s.Spec?.Template) : default,
                    _ => await client.AppsV1.ReadNamespacedDaemonSetAsync(name, ns, cancellationToken: cancellationToken) is var ds ? (ds.Metadata, ds.Spec?.Selector, ds.Spec?.Template) : default,
                };
                return new WorkloadState(metadata?.Uid, selector, template?.Metadata?.Annotations?.TryGetValue(WorkloadRestarter.RestartedAtAnnotation, out var at) == true ? at : null);
            }, "get", workload.Kind.ToLowerInvariant() + "s", ns);
        }
        catch (ClusterApiException e) when (e.IsNotFound)
        {
            return null;
        }
    }

    public async Task<V1ReplicaSet?> ReadReplicaSetAsync(string namespaceName, string name, CancellationToken cancellationToken)
    {
        try
        {
            return await KubernetesErrors.Call(() => client.AppsV1.ReadNamespacedReplicaSetAsync(name, namespaceName, cancellationToken: cancellationToken), "get", "replicasets", namespaceName);
        }
        catch (ClusterApiException e) when (e.IsNotFound)
        {
            return null;
        }
    }

    public Task RecordEventAsync(V1ObjectReference involved, string type, string reason, string message, CancellationToken cancellationToken) =>
        events.RecordAsync(involved, type, reason, message, cancellationToken);

    public async Task<V1Lease?> ReadLeaseAsync(string namespaceName, string name, CancellationToken cancellationToken)
    {
        try
        {
            return await KubernetesErrors.Call(() => client.CoordinationV1.ReadNamespacedLeaseAsync(name, namespaceName, cancellationToken: cancellationToken), "get", "leases", namespaceName);
        }
        catch (ClusterApiException e) when (e.IsNotFound)
        {
            return null;
        }
    }

    public Task<V1Lease> CreateLeaseAsync(V1Lease lease, CancellationToken cancellationToken) =>
        KubernetesErrors.Call(() => client.CoordinationV1.CreateNamespacedLeaseAsync(lease, lease.Metadata.NamespaceProperty, cancellationToken: cancellationToken),
            "create", "leases", lease.Metadata.NamespaceProperty);

    public Task<V1Lease> ReplaceLeaseAsync(V1Lease lease, CancellationToken cancellationToken) =>
        KubernetesErrors.Call(() => client.CoordinationV1.ReplaceNamespacedLeaseAsync(lease, lease.Metadata.Name, lease.Metadata.NamespaceProperty, cancellationToken: cancellationToken),
            "update", "leases", lease.Metadata.NamespaceProperty);
}
