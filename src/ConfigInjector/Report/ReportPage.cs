using System.Globalization;
using System.Net;
using System.Text;
using ConfigInjector.Core.Report;

namespace ConfigInjector.Report;

/// <summary>
/// The report as one self-contained HTML page (no scripts, fonts or images from anywhere: clusters often have no
/// internet, and the page's Content-Security-Policy forbids loading anything): a chart of pods on the latest vs an
/// older version per namespace, then a table per namespace grouped by workload with older versions highlighted.
/// Every text is HTML-encoded; only refs, versions and names appear (and a dynamic ref's lease state and times, an
/// ended or unrecorded lease highlighted).
/// </summary>
internal static class ReportPage
{
    public const string ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

    public static string Render(BlastRadiusReport report, DateTimeOffset generatedAt)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<meta http-equiv=\"Content-Security-Policy\" content=\"").Append(ContentSecurityPolicy).Append("\">")
            .Append("<title>Blast radius of ").Append(E(report.Pattern)).Append("</title><style>").Append(Style).Append("</style></head><body>\n");
        html.Append("<h1>Who reads <code>").Append(E(report.Pattern)).Append("</code></h1>\n");
        html.Append("<p class=\"summary\" id=\"summary\">").Append(E(ReportText.Summary(report))).Append("</p>\n");
        html.Append("<p class=\"generated\">generated ").Append(E(generatedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture))).Append("</p>\n");
        foreach (var note in report.Notes)
            html.Append("<p class=\"note\">").Append(E(note)).Append("</p>\n");
        Chart(html, report.ByNamespace());
        // The lease column only where a dynamic ref is in the report, as in the table.
        var leases = report.HasLeases;
        foreach (var ns in report.Rows.GroupBy(r => r.Namespace, StringComparer.Ordinal))
        {
            html.Append("<section class=\"namespace\" data-namespace=\"").Append(E(ns.Key)).Append("\"><h2>namespace ").Append(E(ns.Key)).Append("</h2>\n<table><thead><tr>")
                .Append("<th>workload</th><th>pod</th><th>ref</th><th>delivery</th><th>pod version</th><th>secret version</th><th>latest</th>")
                .Append(leases ? "<th>lease</th>" : "").Append("<th>action</th><th>policy</th></tr></thead><tbody>\n");
            foreach (var workload in ns.GroupBy(r => $"{r.WorkloadKind}/{r.Workload}", StringComparer.Ordinal))
            {
                var first = true;
                foreach (var row in workload)
                {
                    html.Append("<tr class=\"").Append(row.Standing.ToString().ToLowerInvariant()).Append("\">");
                    if (first)
                        html.Append("<th scope=\"rowgroup\" rowspan=\"").Append(workload.Count()).Append("\">").Append(E(workload.Key)).Append("</th>");
                    first = false;
                    html.Append("<td>").Append(E(row.Pod)).Append("</td><td><code>").Append(E(row.Ref)).Append("</code></td><td>").Append(E(ReportText.Word(row.Delivery))).Append("</td>")
                        .Append("<td class=\"version").Append(row.Standing == PodStanding.Stale ? " old" : "").Append("\">").Append(E(row.PodVersion ?? "unknown")).Append("</td>")
                        .Append("<td class=\"version\">").Append(E(row.SecretVersion ?? "-")).Append("</td><td class=\"version\">").Append(E(row.LatestVersion ?? "?")).Append("</td>");
                    if (leases)
                        html.Append("<td class=\"lease").Append(row.Lease is { } lease ? " " + lease.Word : "").Append("\">").Append(E(ReportText.Lease(row, report))).Append("</td>");
                    html.Append("<td>").Append(E(row.Action)).Append("</td><td>").Append(E(row.Policy ?? "(none now)")).Append("</td></tr>\n");
                }
            }
            html.Append("</tbody></table></section>\n");
        }
        if (report.Rows.Count == 0)
            html.Append("<p class=\"empty\">No pod reads a matching ref.</p>\n");
        return html.Append("</body></html>\n").ToString();
    }

    /// <summary>One stacked bar per namespace: pods on the latest version, on an older one, and unknown.</summary>
    private static void Chart(StringBuilder html, IReadOnlyDictionary<string, (int Current, int Stale, int Unknown)> byNamespace)
    {
        if (byNamespace.Count == 0)
            return;
        const int barHeight = 22, gap = 8, label = 180, width = 420;
        var most = Math.Max(1, byNamespace.Values.Max(c => c.Current + c.Stale + c.Unknown));
        var height = byNamespace.Count * (barHeight + gap) + 24;
        html.Append("<figure><svg class=\"chart\" role=\"img\" aria-label=\"pods on the latest and on an older version, per namespace\" width=\"")
            .Append(label + width + 80).Append("\" height=\"").Append(height).Append("\" xmlns=\"http://www.w3.org/2000/svg\">\n");
        var y = 0;
        foreach (var (ns, counts) in byNamespace)
        {
            html.Append("<g class=\"bar\" data-namespace=\"").Append(E(ns)).Append("\"><text x=\"0\" y=\"").Append(y + 16).Append("\">").Append(E(ns)).Append("</text>");
            var x = (double)label;
            foreach (var (count, css) in new[] { (counts.Current, "current"), (counts.Stale, "stale"), (counts.Unknown, "unknown") })
            {
                var w = width * count / (double)most;
                if (count > 0)
                {
                    html.Append("<rect class=\"").Append(css).Append("\" x=\"").Append(Px(x)).Append("\" y=\"").Append(y).Append("\" width=\"").Append(Px(w))
                        .Append("\" height=\"").Append(barHeight).Append("\"><title>").Append(count).Append(' ').Append(css).Append("</title></rect>");
                }
                x += w;
            }
            html.Append("<text x=\"").Append(Px(x + 6)).Append("\" y=\"").Append(y + 16).Append("\">").Append(counts.Stale).Append(" older / ").Append(counts.Current + counts.Stale + counts.Unknown).Append("</text></g>\n");
            y += barHeight + gap;
        }
        html.Append("<g class=\"legend\"><rect class=\"current\" x=\"").Append(label).Append("\" y=\"").Append(y + 4).Append("\" width=\"12\" height=\"12\"/><text x=\"").Append(label + 16).Append("\" y=\"").Append(y + 15).Append("\">latest</text>")
            .Append("<rect class=\"stale\" x=\"").Append(label + 80).Append("\" y=\"").Append(y + 4).Append("\" width=\"12\" height=\"12\"/><text x=\"").Append(label + 96).Append("\" y=\"").Append(y + 15).Append("\">older</text>")
            .Append("<rect class=\"unknown\" x=\"").Append(label + 160).Append("\" y=\"").Append(y + 4).Append("\" width=\"12\" height=\"12\"/><text x=\"").Append(label + 176).Append("\" y=\"").Append(y + 15).Append("\">unknown</text></g>");
        html.Append("</svg><figcaption>pods per namespace: latest vs older version</figcaption></figure>\n");
    }

    private static string Px(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private const string Style = """
        body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1d2327;background:#fff}
        h1{font-size:20px}h2{font-size:16px;margin-top:28px}
        code{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:13px}
        .summary{font-weight:600}.generated,.note{color:#555;font-size:13px}
        table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
        thead th{background:#f3f4f6}th[scope=rowgroup]{background:#fafafa}
        tr.stale td.old{background:#ffd7d5;color:#8b0000;font-weight:700}
        tr.unknown td{background:#fff4ce}
        td.lease.expired,td.lease.not-recorded{background:#ffd7d5;color:#8b0000;font-weight:700}
        svg.chart text{font-size:13px;fill:#1d2327}
        rect.current{fill:#2da44e}rect.stale{fill:#cf222e}rect.unknown{fill:#bf8700}
        """;
}
