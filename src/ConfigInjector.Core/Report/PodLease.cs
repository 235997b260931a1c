using System.Globalization;
using ConfigInjector.Core.Secrets;

namespace ConfigInjector.Core.Report;

/// <summary>What the report can say of the lease behind a pod's dynamic credential.</summary>
public enum LeaseState
{
    /// <summary>The lease its managed Secret's record holds now, still running.</summary>
    Live,

    /// <summary>The lease the record replaced (the pod started before the re-issue): still running, revoked once the rollout is done.</summary>
    Replaced,

    /// <summary>Ended: past its expiry, or no longer in the record at all (revoked). The pod's credential no longer works.</summary>
    Expired,

    /// <summary>No lease record for its managed Secret: nothing renews or revokes the credential; it ends at its TTL.</summary>
    NotRecorded,

    /// <summary>The lease records could not be read (the caller may not read Secrets in the injector's namespace).</summary>
    Unread,
}

/// <summary>
/// The lease behind one pod's dynamic ref, as people need it: its state, when it ends and what comes next. Only the
/// lease's fingerprint (<see cref="Lease.Fingerprint"/>), never its id: the id lets a Vault token renew or revoke it.
/// </summary>
public sealed record PodLease(LeaseState State, string? Fingerprint = null, DateTimeOffset? ExpiresAt = null, DateTimeOffset? RenewAt = null, bool Renewable = false, bool MaxTtlReached = false)
{
    /// <summary>Ended or unrecorded: a state the report flags (the pod counts as not up to date).</summary>
    public bool Flagged => State is LeaseState.Expired or LeaseState.NotRecorded;

    /// <summary>The pod's lease among a record's current and replaced one (by the version the pod holds), judged at <paramref name="now"/>.</summary>
    public static PodLease Of(string? podVersion, Lease current, Lease? previous, DateTimeOffset now)
    {
        var (lease, state) = podVersion == Lease.Fingerprint(current.Id) ? (current, LeaseState.Live)
            : previous is not null && podVersion == Lease.Fingerprint(previous.Id) ? (previous, LeaseState.Replaced)
            : ((Lease?)null, LeaseState.Expired);
        if (lease is null)
            return new PodLease(LeaseState.Expired);
        return new PodLease(now >= lease.ExpiresAt ? LeaseState.Expired : state, Lease.Fingerprint(lease.Id), lease.ExpiresAt, lease.RenewAt, lease.Renewable, lease.Capped);
    }

    /// <summary>One line for a table cell or the page, with times relative to <paramref name="now"/>.</summary>
    public string Describe(DateTimeOffset now) => State switch
    {
        LeaseState.Unread => "? (lease records not readable: see the notes)",
        LeaseState.NotRecorded => "NO LEASE RECORD: nothing renews or revokes it; it ends at its TTL",
        LeaseState.Expired when ExpiresAt is null => "ENDED: no longer in the lease record (revoked or expired)",
        LeaseState.Expired => $"EXPIRED {Time(ExpiresAt!.Value)} ({Span(now - ExpiresAt.Value)} ago)",
        LeaseState.Replaced => $"replaced, expires {Time(ExpiresAt!.Value)} (in {Span(ExpiresAt.Value - now)}); revoked once the rollout is done",
        _ => $"expires {Time(ExpiresAt!.Value)} (in {Span(ExpiresAt.Value - now)}), "
            + (Renewable && !MaxTtlReached ? $"renewal due {Time(RenewAt!.Value)}" : $"not renewable past it (max TTL): new credentials due {Time(RenewAt!.Value)}"),
    };

    /// <summary>The word for the JSON and the page's CSS class.</summary>
    public string Word => State switch
    {
        LeaseState.Live => "live",
        LeaseState.Replaced => "replaced",
        LeaseState.Expired => "expired",
        LeaseState.NotRecorded => "not-recorded",
        _ => "unread",
    };

    private static string Time(DateTimeOffset at) => at.ToUniversalTime().ToString("yyyy-MM-dd HH:mm'Z'", CultureInfo.InvariantCulture);

    private static string Span(TimeSpan span) =>
        span < TimeSpan.Zero ? "0m"
        : span.TotalHours >= 48 ? $"{(int)span.TotalDays}d"
        : span.TotalMinutes >= 60 ? $"{(int)span.TotalHours}h{span.Minutes:00}m"
        : $"{Math.Max(0, (int)span.TotalMinutes)}m";
}
