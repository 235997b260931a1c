using ConfigInjector.Core.Report;
using ConfigInjector.Report;
using ConfigInjector.TestSupport;

namespace ConfigInjector.Tests.Report;

/// <summary>
/// The report page shows every name as text, whatever it holds: the HTML source carries no markup from a name, and the
/// DOM Debian's headless Chromium builds from it holds each name as a text node, with no element made from one and no
/// script run. The refs and pod names a cluster accepts cannot hold '&lt;', but the page does not rely on that.
/// </summary>
public sealed class ReportPageMarkupTests
{
    private const string Markup = "<script>document.title='script ran'</script><img src=x>";

    [Fact]
    public async Task Markup_in_any_name_renders_as_text_and_runs_no_script()
    {
        var report = new BlastRadiusReport("vault-prod:pattern" + Markup,
            [new ReportRow("ns" + Markup, "CronJob", "workload" + Markup, "pod" + Markup, "ref" + Markup, Delivery.Env, "podversion" + Markup, "secretversion" + Markup,
                "latest" + Markup, PodStanding.Stale, "action" + Markup, "policy" + Markup)],
            new ReportSummary(1, 0, 1, 0), ["note" + Markup]);

        var html = ReportPage.Render(report, DateTimeOffset.UnixEpoch);
        var page = Path.Combine(ScratchDirectory.Create(), "report.html");
        await File.WriteAllTextAsync(page, html);
        var dom = await Chromium.DumpDomAsync(page);

        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<script", dom, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img", dom, StringComparison.OrdinalIgnoreCase);
        foreach (var name in new[] { "vault-prod:pattern", "ns", "CronJob/workload", "pod", "ref", "podversion", "secretversion", "latest", "action", "policy", "note" })
            Assert.Contains(AsText(name + Markup), dom, StringComparison.Ordinal);
        Assert.Contains("<title>Blast radius of " + AsText("vault-prod:pattern" + Markup) + "</title>", dom, StringComparison.Ordinal);
    }

    /// <summary>A text node as Chromium serialises it (https://html.spec.whatwg.org/#escapingString): '&amp;', '&lt;', '&gt;' escaped, quotes kept.</summary>
    private static string AsText(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}
