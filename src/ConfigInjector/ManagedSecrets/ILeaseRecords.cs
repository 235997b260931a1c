namespace ConfigInjector.ManagedSecrets;

/// <summary>Where <see cref="LeaseRecord"/>s are kept: Secrets in the injector's namespace in a cluster, memory without one.</summary>
internal interface ILeaseRecords
{
    /// <summary>
    /// Whether a sync worker renews and revokes the leases recorded here. Without one (inject, serve with no cluster)
    /// an issued credential would live on until its max TTL with nobody to revoke it, so none is issued.
    /// </summary>
    bool Kept { get; }

    Task<LeaseRecord?> FindAsync(string @namespace, string secretName, CancellationToken cancellationToken);

    /// <summary>
    /// Creates a record (no <see cref="LeaseRecord.Version"/>) or replaces the version it was read at; false when
    /// someone else wrote first (another replica admitted a pod of the same workload): read it again.
    /// </summary>
    Task<bool> TrySaveAsync(LeaseRecord record, CancellationToken cancellationToken);

    Task<IReadOnlyList<LeaseRecord>> ListAsync(CancellationToken cancellationToken);

    Task DeleteAsync(LeaseRecord record, CancellationToken cancellationToken);
}
