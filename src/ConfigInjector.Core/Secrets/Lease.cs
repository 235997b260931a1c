namespace ConfigInjector.Core.Secrets;

/// <summary>
/// A lease on dynamic credentials (Vault's <c>lease_id</c>, https://developer.hashicorp.com/vault/docs/concepts/lease):
/// when it was issued and ends, the TTL asked at each renewal (the role's, as first granted), the TTL granted last, and
/// whether the last renewal was cut short by the role's max TTL (<see cref="Capped"/>: it cannot be renewed past that).
/// </summary>
public sealed record Lease(string Id, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt, TimeSpan Ttl, TimeSpan Granted, bool Renewable, bool Capped = false)
{
    /// <summary>Renewed (or replaced) at two thirds of what was granted last, as Vault Agent renews.</summary>
    public DateTimeOffset RenewAt => ExpiresAt - Granted / 3;

    /// <summary>What to do with it at <paramref name="now"/>.</summary>
    public LeaseStep Next(DateTimeOffset now) =>
        now >= ExpiresAt ? LeaseStep.Expired
        : now < RenewAt ? LeaseStep.Wait
        : Renewable && !Capped ? LeaseStep.Renew
        : LeaseStep.Reissue;

    /// <summary>The lease after a renewal granted <paramref name="granted"/> at <paramref name="now"/>; less than asked means the max TTL is near.</summary>
    public Lease Renewed(DateTimeOffset now, TimeSpan granted, bool renewable) =>
        this with { ExpiresAt = now + granted, Granted = granted, Renewable = renewable, Capped = granted < Ttl };

    // The id lets whoever holds a Vault token renew or revoke it: it is never printed, only its fingerprint.
    public override string ToString() => $"Lease({Fingerprint(Id)}, expires {ExpiresAt:u})";

    /// <summary>A short, one-way name for a lease id: what logs, Events, annotations and versions may show.</summary>
    public static string Fingerprint(string id) =>
        "lease-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(id)).AsSpan(0, 5));
}

/// <summary>
/// <see cref="Wait"/> until renewal is due; <see cref="Renew"/> it; <see cref="Reissue"/> when it cannot outlive the
/// next renewal (max TTL, or not renewable); <see cref="Expired"/> when it has already ended.
/// </summary>
public enum LeaseStep { Wait, Renew, Reissue, Expired }
