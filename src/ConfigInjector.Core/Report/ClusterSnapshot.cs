using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using k8s.Models;

namespace ConfigInjector.Core.Report;

/// <summary>The workload a pod belongs to, as people name it: a Deployment rather than its ReplicaSet, a CronJob rather than its Job.</summary>
public sealed record WorkloadRef(string Kind, string Name);

/// <summary>
/// An object that may control pods (a ReplicaSet, Job, StatefulSet or DaemonSet), by uid: its kind and name, its
/// selector, and the workload people know it by (a ReplicaSet's Deployment only when that Deployment exists with the
/// uid the ReplicaSet names).
/// </summary>
public sealed record PodController(string Kind, string Name, V1LabelSelector? Selector, WorkloadRef Top);

/// <summary>
/// What the report is computed from, read by an adapter: the pods, the managed Secrets, the objects that may control
/// pods (by uid), the workloads whose rollout is under way, the policies, and the latest version of each
/// path the backends could tell (missing when a backend could not be read).
/// </summary>
public sealed record ClusterSnapshot(
    IReadOnlyList<V1Pod> Pods,
    IReadOnlyList<V1Secret> ManagedSecrets,
    IReadOnlyDictionary<string, PodController> ControllersByUid,
    IReadOnlySet<(string Namespace, string Kind, string Name)> RollingOut,
    IReadOnlyList<SecretPolicy> Policies,
    IReadOnlyDictionary<SecretLocation, string> LatestVersions)
{
    /// <summary>Pods being deleted (namespace, name): still running until they exit, told apart by the adapter (the core reads no clock or time).</summary>
    public IReadOnlySet<(string Namespace, string Name)> Terminating { get; init; } = new HashSet<(string, string)>();
}
