using ConfigInjector.Core.Report;
using ConfigInjector.ManagedSecrets;
using k8s.Models;

namespace ConfigInjector.Report;

/// <summary>What the report reads from the cluster, in one narrow gateway the Kubernetes adapter implements.</summary>
internal interface IReportCluster
{
    /// <summary>Pods, managed Secrets, the objects that may control pods (by uid), and the workloads mid-rollout; all namespaces when null.</summary>
    Task<ClusterObjects> ReadAsync(string? namespaceName, CancellationToken cancellationToken);

    /// <summary>
    /// The lease records of dynamic refs (Secrets in the injector's namespace), or why they could not be read: a caller
    /// who may not read Secrets there still gets the report, with a note instead of lease expiries. Never throws for that.
    /// </summary>
    Task<LeaseRecordsRead> ReadLeaseRecordsAsync(CancellationToken cancellationToken);
}

internal sealed record ClusterObjects(
    IReadOnlyList<V1Pod> Pods,
    IReadOnlyList<V1Secret> ManagedSecrets,
    IReadOnlyDictionary<string, PodController> ControllersByUid,
    IReadOnlySet<(string Namespace, string Kind, string Name)> RollingOut);

/// <summary>The lease records, or (with <see cref="Records"/> null) the one-line reason they could not be read.</summary>
internal sealed record LeaseRecordsRead(IReadOnlyList<LeaseRecord>? Records, string? Problem = null);
