using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;
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

    /// <summary>Paths in a lease-issuing engine (<see cref="DynamicLocations"/>): each managed Secret has its own lease, so they have no one latest version.</summary>
    public IReadOnlySet<SecretLocation> Dynamic { get; init; } = new HashSet<SecretLocation>();

    /// <summary>The leases each managed Secret's record holds, by (namespace, Secret name) and path; null when the records could not be read.</summary>
    public IReadOnlyDictionary<(string Namespace, string Secret), IReadOnlyDictionary<SecretLocation, HeldLease>>? Leases { get; init; }

    /// <summary>When the snapshot was taken, for the leases' expiry (the adapter's clock: the core reads none).</summary>
    public DateTimeOffset Now { get; init; }
}

/// <summary>A lease record's entry for one path: the lease now, and the one it replaced while pods may still hold it.</summary>
public sealed record HeldLease(Lease Current, Lease? Previous);
