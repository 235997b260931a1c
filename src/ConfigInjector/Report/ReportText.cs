using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConfigInjector.Core.Report;

namespace ConfigInjector.Report;

/// <summary>
/// The report as a terminal table, JSON or YAML: refs, versions and names only, and for a dynamic ref its lease's state
/// and times (a fingerprint, never the lease id). In the table every text that comes
/// from the cluster is escaped (<see cref="TerminalText"/>): a name cannot forge rows on the reader's terminal.
/// </summary>
internal static class ReportText
{
    private static readonly string[] Headers = ["NAMESPACE", "WORKLOAD", "POD", "REF", "DELIVERY", "POD VERSION*", "SECRET VERSION", "LATEST", "STANDING", "ACTION", "POLICY"];

    /// <summary>Which column is the pod's word, not the injector's: a pod's owner may edit its annotations after admission.</summary>
    public const string PodClaim = "* the pod's own claim (its configinjector.io/injected annotation, which whoever may edit the pod can change); SECRET VERSION is read only from managed Secrets this install signed";

    public static string Summary(BlastRadiusReport report) =>
        $"{report.Summary.Pods} pods read {TerminalText.Escape(report.Pattern)}: {report.Summary.PodsCurrent} on the latest version, {report.Summary.PodsStale} on an older one, {report.Summary.PodsUnknown} unknown (not injected)"
        + (report.Summary.PodsLeaseEnded > 0 ? $"; {report.Summary.PodsLeaseEnded} of them on a dynamic credential whose lease has expired or is not recorded" : "");

    /// <summary>What the lease column says of a row: "-" for a ref that is not dynamic.</summary>
    public static string Lease(ReportRow row, BlastRadiusReport report) => row.Lease?.Describe(report.GeneratedAt) ?? "-";

    public static string Table(BlastRadiusReport report)
    {
        // The LEASE column only where a dynamic ref is in the report: the others have none.
        var leases = report.HasLeases;
        string[] headers = leases ? [.. Headers[..^2], "LEASE", .. Headers[^2..]] : Headers;
        var rows = report.Rows.Select(r => ((string[])
        [
            r.Namespace, $"{r.WorkloadKind}/{r.Workload}", r.Pod, r.Ref, Word(r.Delivery), r.PodVersion ?? "?", r.SecretVersion ?? "-", r.LatestVersion ?? "?",
            r.Standing.ToString().ToLowerInvariant(), .. leases ? [Lease(r, report)] : Array.Empty<string>(), r.Action, r.Policy ?? "(none now)",
        ]).Select(TerminalText.Escape).ToArray()).ToList();
        var widths = headers.Select((h, i) => rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        var text = new StringBuilder();
        foreach (var line in rows.Prepend(headers))
            text.AppendLine(string.Join("  ", line.Select((cell, i) => i == line.Length - 1 ? cell : cell.PadRight(widths[i]))).TrimEnd());
        foreach (var note in report.Notes)
            text.AppendLine("note: " + TerminalText.Escape(note));
        text.AppendLine(PodClaim);
        return text.AppendLine(Summary(report)).ToString();
    }

    public static JsonObject Json(BlastRadiusReport report)
    {
        var json = Fields(report);
        // Lease fields only where a dynamic ref is in the report, as the table's column.
        if (!report.HasLeases)
            return json;
        json["summary"]!["leaseEnded"] = report.Summary.PodsLeaseEnded;
        foreach (var (row, node) in report.Rows.Zip(json["rows"]!.AsArray()))
            node!["lease"] = row.Lease is { } lease ? LeaseJson(lease, report) : null;
        return json;
    }

    private static JsonObject Fields(BlastRadiusReport report) => new()
    {
        ["ref"] = report.Pattern,
        ["summary"] = new JsonObject
        {
            ["pods"] = report.Summary.Pods,
            ["current"] = report.Summary.PodsCurrent,
            ["stale"] = report.Summary.PodsStale,
            ["unknown"] = report.Summary.PodsUnknown,
        },
        ["rows"] = new JsonArray([.. report.Rows.Select(r => (JsonNode)new JsonObject
        {
            ["namespace"] = r.Namespace,
            ["workloadKind"] = r.WorkloadKind,
            ["workload"] = r.Workload,
            ["pod"] = r.Pod,
            ["ref"] = r.Ref,
            ["delivery"] = r.Delivery is null ? null : Word(r.Delivery),
            ["podVersion"] = r.PodVersion,
            ["secretVersion"] = r.SecretVersion,
            ["latestVersion"] = r.LatestVersion,
            ["standing"] = r.Standing.ToString().ToLowerInvariant(),
            ["action"] = r.Action,
            ["policy"] = r.Policy,
        })]),
        ["notes"] = new JsonArray([.. report.Notes.Select(n => (JsonNode)n)]),
    };

    /// <summary>A dynamic ref's lease: its state, fingerprint and times; never its id.</summary>
    private static JsonObject LeaseJson(PodLease lease, BlastRadiusReport report) => new()
    {
        ["state"] = lease.Word,
        ["fingerprint"] = lease.Fingerprint,
        ["expiresAt"] = lease.ExpiresAt?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
        ["renewAt"] = lease.RenewAt?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
        ["renewable"] = lease.ExpiresAt is null ? null : lease.Renewable,
        ["maxTtlReached"] = lease.ExpiresAt is null ? null : lease.MaxTtlReached,
        ["text"] = lease.Describe(report.GeneratedAt),
    };

    public static string JsonText(BlastRadiusReport report) => Json(report).ToJsonString(Indented) + "\n";

    public static string Word(Delivery? delivery) => delivery switch
    {
        Delivery.Env => "env",
        Delivery.File => "file",
        Delivery.EnvAndFile => "env+file",
        Delivery.Plain => "plain",
        _ => "?",
    };

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
}
