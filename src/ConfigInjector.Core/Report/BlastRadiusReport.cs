namespace ConfigInjector.Core.Report;

/// <summary>How a pod receives a ref's value: env vars keep the value of their start, files follow the Secret.</summary>
public enum Delivery { Env, File, EnvAndFile, Plain }

/// <summary>Where one pod stands for one ref.</summary>
public enum PodStanding
{
    /// <summary>Holds the latest version.</summary>
    Current,

    /// <summary>Holds an older version than the latest.</summary>
    Stale,

    /// <summary>Asked for the ref but was not injected (the webhook was skipped): what it holds cannot be known.</summary>
    Unknown,
}

/// <summary>
/// One pod and one matching ref: the version it holds now, what its managed Secret and the backend hold, and what
/// (if anything) will bring it up to date. Refs, versions and names only: never a value.
/// </summary>
public sealed record ReportRow(
    string Namespace,
    string WorkloadKind,
    string Workload,
    string Pod,
    string Ref,
    Delivery? Delivery,
    string? PodVersion,
    string? SecretVersion,
    string? LatestVersion,
    PodStanding Standing,
    string Action,
    string? Policy)
{
    /// <summary>For a dynamic ref, the lease behind the credential the pod holds; null for any other ref.</summary>
    public PodLease? Lease { get; init; }
}

public sealed record ReportSummary(int Pods, int PodsCurrent, int PodsStale, int PodsUnknown)
{
    /// <summary>Pods whose dynamic credential's lease has ended or is not recorded (counted among <see cref="PodsStale"/> too).</summary>
    public int PodsLeaseEnded { get; init; }
}

/// <summary>The blast radius of a ref pattern: every pod that reads a matching ref, grouped for people by namespace and workload.</summary>
public sealed record BlastRadiusReport(string Pattern, IReadOnlyList<ReportRow> Rows, ReportSummary Summary, IReadOnlyList<string> Notes)
{
    /// <summary>When the cluster was read: what lease expiries are told relative to.</summary>
    public DateTimeOffset GeneratedAt { get; init; }

    /// <summary>Whether any row is of a dynamic ref (the lease column is shown only then).</summary>
    public bool HasLeases => Rows.Any(r => r.Lease is not null);

    /// <summary>Pods on an older version, per namespace (for the page's chart and the gauge).</summary>
    public IReadOnlyDictionary<string, (int Current, int Stale, int Unknown)> ByNamespace() =>
        Rows.GroupBy(r => r.Namespace, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(
            g => g.Key,
            g =>
            {
                var pods = g.GroupBy(r => r.Pod).Select(p => Worst(p.Select(r => r.Standing))).ToList();
                return (pods.Count(s => s == PodStanding.Current), pods.Count(s => s == PodStanding.Stale), pods.Count(s => s == PodStanding.Unknown));
            },
            StringComparer.Ordinal);

    /// <summary>A pod with one stale ref is stale; one that escaped injection is unknown; otherwise current.</summary>
    public static PodStanding Worst(IEnumerable<PodStanding> standings)
    {
        var all = standings.ToList();
        return all.Contains(PodStanding.Stale) ? PodStanding.Stale : all.Contains(PodStanding.Unknown) ? PodStanding.Unknown : PodStanding.Current;
    }
}
