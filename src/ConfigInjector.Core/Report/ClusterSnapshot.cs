using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using k8s.Models;

namespace ConfigInjector.Core.Report;

/// <summary>The workload a pod belongs to, as people name it: a Deployment rather than its ReplicaSet, a CronJob rather than its Job.</summary>
public sealed record WorkloadRef(string Kind, string Name);

/// <summary>
/// What the report is computed from, read by an adapter: the pods, the managed Secrets, each ReplicaSet's or Job's
/// top workload (by uid), the workloads whose rollout is under way, the policies, and the latest version of each
/// path the backends could tell (missing when a backend could not be read).
/// </summary>
public sealed record ClusterSnapshot(
    IReadOnlyList<V1Pod> Pods,
    IReadOnlyList<V1Secret> ManagedSecrets,
    IReadOnlyDictionary<string, WorkloadRef> ControllersByUid,
    IReadOnlySet<(string Namespace, string Kind, string Name)> RollingOut,
    IReadOnlyList<SecretPolicy> Policies,
    IReadOnlyDictionary<SecretLocation, string> LatestVersions)
{
    /// <summary>Pods being deleted (namespace, name): still running until they exit, told apart by the adapter (the core reads no clock or time).</summary>
    public IReadOnlySet<(string Namespace, string Name)> Terminating { get; init; } = new HashSet<(string, string)>();
}
