using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;

namespace ConfigInjector.Backends;

/// <summary>
/// The optional capability of a backend whose engines issue credentials with a lease (Vault's database, AWS, …), used
/// only for paths a SecretPolicy rule marks <c>dynamic: true</c>. Never behind the shared cache: each issue is a new
/// credential for one managed Secret, so none is coalesced, cached or kept as a last-known-good for anyone else.
/// <c>serviceAccount</c> is the pod's for a backend with <c>identity: pod</c> (null reads as the backend's own credential).
/// </summary>
internal interface IIssuesLeases
{
    ValueTask<IssuedSecret> IssueAsync(SecretLocation location, Subject? serviceAccount, CancellationToken cancellationToken);

    /// <summary>The lease-issuing engine the location is in, asked of the vault without issuing; null when it is in none, or the vault cannot say.</summary>
    ValueTask<IssuingEngine?> EngineOfAsync(SecretLocation location, Subject? serviceAccount, CancellationToken cancellationToken);

    ValueTask<LeaseAnswer> RenewAsync(Lease lease, Subject? serviceAccount, CancellationToken cancellationToken);

    ValueTask<LeaseAnswer> RevokeAsync(Lease lease, Subject? serviceAccount, CancellationToken cancellationToken);
}

/// <summary>A mount that issues credentials with a lease, and its engine's type (<c>database</c>, <c>aws</c>, …).</summary>
internal sealed record IssuingEngine(string Mount, string Type);

/// <summary>The read of one issue: every key of one credential, and its lease (null when the read failed).</summary>
internal sealed record IssuedSecret(SecretRead Read, Lease? Lease);

/// <summary><see cref="Gone"/>: the vault no longer knows the lease (expired, revoked, or never renewable).</summary>
internal enum LeaseOutcome { Done, Gone, Failed }

/// <summary>What a renewal or revocation came to; a renewal's <see cref="Lease"/> carries the TTL granted.</summary>
internal sealed record LeaseAnswer(LeaseOutcome Outcome, Lease? Lease, string? Reason);
