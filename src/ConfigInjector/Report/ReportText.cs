using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConfigInjector.Core.Report;

namespace ConfigInjector.Report;

/// <summary>
/// The report as a terminal table, JSON or YAML: refs, versions and names only. In the table every text that comes
/// from the cluster is escaped (<see cref="TerminalText"/>): a name cannot forge rows on the reader's terminal.
/// </summary>
internal static class ReportText
{
    private static readonly string[] Headers = ["NAMESPACE", "WORKLOAD", "POD", "REF", "DELIVERY", "POD VERSION*", "SECRET VERSION", "LATEST", "STANDING", "ACTION", "POLICY"];

    /// <summary>Which column is the pod's word, not the injector's: a pod's owner may edit its annotations after admission.</summary>
    public const string PodClaim = "* the pod's own claim (its configinjector.io/injected annotation, which whoever may edit the pod can change); SECRET VERSION is read only from managed Secrets this install signed";

    public static string Summary(BlastRadiusReport report) =>
        $"{report.Summary.Pods} pods read {TerminalText.Escape(report.Pattern)}: {report.Summary.PodsCurrent} on the latest version, {report.Summary.PodsStale} on an older one, {report.Summary.PodsUnknown} unknown (not injected)";

    public static string Table(BlastRadiusReport report)
    {
        var rows = report.Rows.Select(r => new[]
        {
            r.Namespace, $"{r.WorkloadKind}/{r.Workload}", r.Pod, r.Ref, Word(r.Delivery), r.PodVersion ?? "?", r.SecretVersion ?? "-", r.LatestVersion ?? "?",
            r.Standing.ToString().ToLowerInvariant(), r.Action, r.Policy ?? "(none now)",
        }.Select(TerminalText.Escape).ToArray()).ToList();
        var widths = Headers.Select((h, i) => rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        var text = new StringBuilder();
        foreach (var line in rows.Prepend(Headers))
            text.AppendLine(string.Join("  ", line.Select((cell, i) => i == line.Length - 1 ? cell : cell.PadRight(widths[i]))).TrimEnd());
        foreach (var note in report.Notes)
            text.AppendLine("note: " + TerminalText.Escape(note));
        text.AppendLine(PodClaim);
        return text.AppendLine(Summary(report)).ToString();
    }

    public static JsonObject Json(BlastRadiusReport report) => new()
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
