using ConfigInjector.Core.Ownership;
using ConfigInjector.Core.Planning;
using ConfigInjector.Core.Report;
using ConfigInjector.Report;
using k8s;
using k8s.Models;

namespace ConfigInjector.Kubernetes;

/// <summary>
/// The report's reads: chunked lists (500 a page, as kubectl pages) of pods and managed Secrets, and the ReplicaSets,
/// Jobs and workloads that may control each pod (checked by uid and selector in the core) and say whether a rollout is under way;
/// and the lease records in the injector's namespace (<see cref="KubernetesLeaseRecords"/>).
/// </summary>
internal sealed class KubernetesReportCluster(IKubernetes client, string injectorNamespace) : IReportCluster
{
    private const int PageSize = 500;

    public async Task<LeaseRecordsRead> ReadLeaseRecordsAsync(CancellationToken cancellationToken)
    {
        try
        {
            return new LeaseRecordsRead(await new KubernetesLeaseRecords(client, injectorNamespace).ListAsync(cancellationToken));
        }
        catch (ManagedSecrets.ManagedSecretException e)
        {
            // Typically a person whose kubeconfig may not read Secrets in the injector's namespace: the report goes on without.
            return new LeaseRecordsRead(null, e.Message);
        }
    }

    public async Task<ClusterObjects> ReadAsync(string? ns, CancellationToken cancellationToken)
    {
        var pods = await PagesAsync(async token => ns is null
            ? await client.CoreV1.ListPodForAllNamespacesAsync(limit: PageSize, continueParameter: token, cancellationToken: cancellationToken)
            : await client.CoreV1.ListNamespacedPodAsync(ns, limit: PageSize, continueParameter: token, cancellationToken: cancellationToken), l => (l.Items, l.Metadata?.ContinueProperty), "pods", ns);
        var secrets = await PagesAsync(async token => ns is null
            ? await client.CoreV1.ListSecretForAllNamespacesAsync(labelSelector: ManagedSecretFactory.ManagedBySelector, limit: PageSize, continueParameter: token, cancellationToken: cancellationToken)
            : await client.CoreV1.ListNamespacedSecretAsync(ns, labelSelector: ManagedSecretFactory.ManagedBySelector, limit: PageSize, continueParameter: token, cancellationToken: cancellationToken), l => (l.Items, l.Metadata?.ContinueProperty), "secrets", ns);
        var replicaSets = await PagesAsync(async token => ns is null
            ? await client.AppsV1.ListReplicaSetForAllNamespacesAsync(limit: PageSize, continueParameter: token, cancellationToken: cancellationToken)
            : await client.AppsV1.ListNamespacedReplicaSetAsync(ns, limit: PageSize, continueParameter: token, cancellationToken: cancellationToken), l => (l.Items, l.Metadata?.ContinueProperty), "replicasets", ns);
        var jobs = await PagesAsync(async token => ns is null
            ? await client.BatchV1.ListJobForAllNamespacesAsync(limit: PageSize, continueParameter: token, cancellationToken: cancellationToken)
            : await client.BatchV1.ListNamespacedJobAsync(ns, limit: PageSize, continueParameter: token, cancellationToken: cancellationToken), l => (l.Items, l.Metadata?.ContinueProperty), "jobs", ns);
        var deployments = await PagesAsync(async token => ns is null
            ? await client.AppsV1.ListDeploymentForAllNamespacesAsync(limit: PageSize, continueParameter: token, cancellationToken: cancellationToken)
            : await client.AppsV1.ListNamespacedDeploymentAsync(ns, limit: PageSize, continueParameter: token, cancellationToken: cancellationToken), l => (l.Items, l.Metadata?.ContinueProperty), "deployments", ns);
        var statefulSets = await PagesAsync(async token => ns is null
            ? await client.AppsV1.ListStatefulSetForAllNamespacesAsync(limit: PageSize, continueParameter: token, cancellationToken: cancellationToken)
            : await client.AppsV1.ListNamespacedStatefulSetAsync(ns, limit: PageSize, continueParameter: token, cancellationToken: cancellationToken), l => (l.Items, l.Metadata?.ContinueProperty), "statefulsets", ns);
        var daemonSets = await PagesAsync(async token => ns is null
            ? await client.AppsV1.ListDaemonSetForAllNamespacesAsync(limit: PageSize, continueParameter: token, cancellationToken: cancellationToken)
            : await client.AppsV1.ListNamespacedDaemonSetAsync(ns, limit: PageSize, continueParameter: token, cancellationToken: cancellationToken), l => (l.Items, l.Metadata?.ContinueProperty), "daemonsets", ns);

        var controllers = new Dictionary<string, PodController>(StringComparer.Ordinal);
        var deploymentUids = deployments.Where(d => d.Metadata?.Uid is not null).ToDictionary(d => (d.Metadata.NamespaceProperty, d.Metadata.Name), d => d.Metadata.Uid);
        foreach (var rs in replicaSets.Where(r => r.Metadata?.Uid is not null))
        {
            // A ReplicaSet is known by its Deployment only when that Deployment exists with the uid the ReplicaSet names.
            var deployment = rs.Metadata.OwnerReferences?.FirstOrDefault(o => o?.Controller == true && o.Kind == "Deployment");
            var top = deployment is not null && deploymentUids.TryGetValue((rs.Metadata.NamespaceProperty, deployment.Name), out var uid)
                && PodOwnership.ControlledBy(rs.Metadata, "Deployment", deployment.Name, uid)
                ? new WorkloadRef("Deployment", deployment.Name)
                : new WorkloadRef("ReplicaSet", rs.Metadata.Name);
            controllers[rs.Metadata.Uid] = new PodController("ReplicaSet", rs.Metadata.Name, rs.Spec?.Selector, top);
        }
        // A Job's CronJob is named, not checked (CronJobs are not read): neither can be rolled, so the name only labels rows.
        foreach (var job in jobs.Where(j => j.Metadata?.Uid is not null))
            controllers[job.Metadata.Uid] = new PodController("Job", job.Metadata.Name, job.Spec?.Selector, Top(job.Metadata, "Job", "CronJob"));
        foreach (var set in statefulSets.Where(s => s.Metadata?.Uid is not null))
            controllers[set.Metadata.Uid] = new PodController("StatefulSet", set.Metadata.Name, set.Spec?.Selector, new WorkloadRef("StatefulSet", set.Metadata.Name));
        foreach (var set in daemonSets.Where(d => d.Metadata?.Uid is not null))
            controllers[set.Metadata.Uid] = new PodController("DaemonSet", set.Metadata.Name, set.Spec?.Selector, new WorkloadRef("DaemonSet", set.Metadata.Name));

        var rolling = new HashSet<(string, string, string)>();
        // As kubectl rollout status sees it: not yet observed, too few updated, or old replicas still to go.
        foreach (var d in deployments.Where(d => (d.Status?.ObservedGeneration ?? 0) < (d.Metadata.Generation ?? 0) || (d.Status?.UpdatedReplicas ?? 0) < (d.Spec?.Replicas ?? 1)
            || (d.Status?.Replicas ?? 0) > (d.Status?.UpdatedReplicas ?? 0)))
            rolling.Add((d.Metadata.NamespaceProperty, "Deployment", d.Metadata.Name));
        // An OnDelete StatefulSet never rolls by itself: its pods wait to be deleted, so it is not "in progress".
        foreach (var s in statefulSets.Where(s => s.Spec?.UpdateStrategy?.Type != "OnDelete"
            && ((s.Status?.ObservedGeneration ?? 0) < (s.Metadata.Generation ?? 0) || s.Status?.UpdateRevision != s.Status?.CurrentRevision)))
            rolling.Add((s.Metadata.NamespaceProperty, "StatefulSet", s.Metadata.Name));
        foreach (var d in daemonSets.Where(d => (d.Status?.ObservedGeneration ?? 0) < (d.Metadata.Generation ?? 0) || (d.Status?.UpdatedNumberScheduled ?? 0) < (d.Status?.DesiredNumberScheduled ?? 0)))
            rolling.Add((d.Metadata.NamespaceProperty, "DaemonSet", d.Metadata.Name));
        return new ClusterObjects(pods, secrets, controllers, rolling);
    }

    /// <summary>A ReplicaSet's Deployment or a Job's CronJob when it has one, else itself.</summary>
    private static WorkloadRef Top(V1ObjectMeta metadata, string kind, string ownerKind) =>
        metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true && o.Kind == ownerKind) is { } owner
            ? new WorkloadRef(ownerKind, owner.Name)
            : new WorkloadRef(kind, metadata.Name);

    private static async Task<List<T>> PagesAsync<TList, T>(Func<string?, Task<TList>> list, Func<TList, (IList<T> Items, string? Continue)> page, string resource, string? ns)
    {
        var all = new List<T>();
        string? token = null;
        do
        {
            var (items, next) = page(await KubernetesErrors.Call(() => list(token), "list", resource, ns));
            all.AddRange(items);
            token = string.IsNullOrEmpty(next) ? null : next;
        }
        while (token is not null);
        return all;
    }
}
