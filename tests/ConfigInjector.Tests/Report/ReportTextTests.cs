using ConfigInjector.Core.Report;
using ConfigInjector.Report;

namespace ConfigInjector.Tests.Report;

/// <summary>The report's table on a terminal: whatever a pod, workload or ref is called, it cannot forge or hide rows.</summary>
public sealed class ReportTextTests
{
    private const string Forged = "web\u001b[2J\rshop       Deployment/web  web-1  ok\ncurrent\u202Eelbats\u2066x\u0085\u009b31m\\x1b";

    private static BlastRadiusReport Report() => new("vault-prod:secret/shop/db",
        [
            new ReportRow("shop", "Deployment", Forged, Forged, "vault-prod:secret/shop/db#password", Delivery.Env, "1", "2", "2", PodStanding.Stale, "restart pending", "shop"),
            new ReportRow("shop", "Deployment", "checkout", "checkout-a", "vault-prod:secret/shop/db#password", Delivery.Env, "2", "2", "2", PodStanding.Current, "none", "shop"),
        ],
        new ReportSummary(2, 1, 1, 0), ["a note about " + Forged]);

    [Fact]
    public void Control_and_bidi_characters_in_names_are_shown_escaped_and_start_no_row()
    {
        var table = ReportText.Table(Report());
        var lines = table.Split('\n');

        // Header, two rows, the note, the pod's-claim footnote and the summary, and nothing after the last line break.
        Assert.Equal(7, lines.Length);
        Assert.Equal("", lines[^1]);
        Assert.DoesNotContain(table, c => (c < 0x20 && c != '\n') || (c >= 0x7F && c <= 0x9F) || char.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format);
        Assert.Contains(@"web\x1b[2J\rshop       Deployment/web  web-1  ok\ncurrent\u202eelbats\u2066x\x85\x9b31m\\x1b", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("shop       Deployment/web", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("note: a note about web\\x1b[2J", lines[3], StringComparison.Ordinal);
    }

    [Fact]
    public void Plain_names_are_printed_as_they_are()
    {
        Assert.Equal("checkout-a.v2_x", TerminalText.Escape("checkout-a.v2_x"));
        Assert.Equal("ünïcode-名前", TerminalText.Escape("ünïcode-名前"));
    }
}
