using ConfigInjector.Core.Report;
using k8s.Models;

namespace ConfigInjector.Report;

/// <summary>What the report reads from the cluster, in one narrow gateway the Kubernetes adapter implements.</summary>
internal interface IReportCluster
{
    /// <summary>Pods, managed Secrets, the objects that may control pods (by uid), and the workloads mid-rollout; all namespaces when null.</summary>
    Task<ClusterObjects> ReadAsync(string? namespaceName, CancellationToken cancellationToken);
}

internal sealed record ClusterObjects(
    IReadOnlyList<V1Pod> Pods,
    IReadOnlyList<V1Secret> ManagedSecrets,
    IReadOnlyDictionary<string, PodController> ControllersByUid,
    IReadOnlySet<(string Namespace, string Kind, string Name)> RollingOut);
