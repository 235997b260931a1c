using k8s.Models;

namespace ConfigInjector.Sync;

/// <summary>The coordination.k8s.io Leases the replicas elect their leader with.</summary>
internal interface ILeaseStore
{
    /// <summary>The Lease, or null when there is none.</summary>
    Task<V1Lease?> ReadLeaseAsync(string namespaceName, string name, CancellationToken cancellationToken);

    /// <summary>Creates the Lease; a 409 (<see cref="ClusterApiException.IsConflict"/>) when another replica was first.</summary>
    Task<V1Lease> CreateLeaseAsync(V1Lease lease, CancellationToken cancellationToken);

    /// <summary>Replaces the Lease, guarded by the resourceVersion it carries (409 when another replica wrote it since).</summary>
    Task<V1Lease> ReplaceLeaseAsync(V1Lease lease, CancellationToken cancellationToken);
}
