using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using ConfigInjector.TestSupport;

namespace ConfigInjector.Tests.Report;

/// <summary>
/// <c>serve --report-access</c>: <c>GET /report</c> as a self-contained page, only for the clients named (a bearer
/// token the fake API server's TokenReview knows), rendered by Debian's headless Chromium: the rows are in the DOM,
/// the older versions are highlighted on screen, and a screenshot is kept under the test output (report-page/).
/// </summary>
public sealed partial class ReportPageTests : IAsyncLifetime
{
    private ClusterEnvironment _cluster = null!;
    private ReportSpread _spread = null!;

    public async Task InitializeAsync()
    {
        _cluster = await ClusterEnvironment.StartAsync();
        _cluster.Api.AddTokenFor(ConfigInjector.Report.ReportAccess.TokenAudience, "oncall-token", "alice", "security");
        _cluster.Api.AddTokenFor(ConfigInjector.Report.ReportAccess.TokenAudience, "dev-token", "bob", "developers");
        _spread = await ReportSpread.CreateAsync(_cluster, s => s with { ReportAccess = "group:security" });
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private async Task<HttpResponseMessage> GetAsync(string query, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/report" + query);
        if (token is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await _spread.Server.Client.SendAsync(request);
    }

    [Fact]
    public async Task Only_the_named_clients_get_the_report_and_a_bad_ref_is_a_400()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync("?ref=" + ReportSpread.Ref, null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync("?ref=" + ReportSpread.Ref, "dev-token")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync("?ref=" + ReportSpread.Ref, "made-up")).StatusCode);
        var bad = await GetAsync("?ref=nocolon", "oncall-token");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("ref: \"nocolon\": no ':' after the backend name; expected <backend>:<path>[#<key>][@<version>]\n", await bad.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_page_renders_in_chromium_with_every_row_and_the_older_versions_highlighted()
    {
        var response = await GetAsync("?ref=" + Uri.EscapeDataString(ReportSpread.Ref), "oncall-token");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType!.MediaType);
        Assert.StartsWith("default-src 'none'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        var html = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("cluster-only-", html, StringComparison.Ordinal);
        Assert.DoesNotMatch(SourceOrLink(), html);

        var folder = Path.Combine(AppContext.BaseDirectory, "report-page");
        Directory.CreateDirectory(folder);
        var page = Path.Combine(folder, "report.html");
        await File.WriteAllTextAsync(page, html);
        var dom = await Chromium.DumpDomAsync(page);

        Assert.Equal(["billing", "shop"], SectionNamespaces().Matches(dom).Select(m => m.Groups[1].Value));
        var rows = RowClasses().Matches(dom).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(8, rows.Count);
        Assert.Equal(5, rows.Count(c => c == "stale"));
        Assert.Equal(1, rows.Count(c => c == "unknown"));
        Assert.Equal(5, OldVersionCells().Count(dom));
        Assert.All(OldVersionCells().Matches(dom), m => Assert.Equal("1", m.Groups[1].Value));
        Assert.Contains("7 pods read vault-prod:secret/shop/db: 2 on the latest version, 4 on an older one, 1 unknown (not injected)", dom, StringComparison.Ordinal);

        var screenshot = Path.Combine(folder, "report.png");
        await Chromium.ScreenshotAsync(page, screenshot);
        var pixels = PngPixels.Read(screenshot);
        // The highlight of an older version (#ffd7d5) and the chart's "older" bar (#cf222e) are on screen.
        Assert.True(pixels.Count((0xff, 0xd7, 0xd5)) > 500, "older versions highlighted in the screenshot");
        Assert.True(pixels.Count((0xcf, 0x22, 0x2e)) > 500, "the chart's bar of pods on an older version in the screenshot");
    }

    [Fact]
    public async Task An_api_server_that_fails_is_a_502_with_the_reason()
    {
        // DaemonSets are listed by the report alone (the sync worker lists pods too, and could take the fault).
        _cluster.Api.FailNext("GET", "daemonsets", 500);

        var response = await GetAsync("?ref=" + Uri.EscapeDataString(ReportSpread.Ref), "oncall-token");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.StartsWith("the cluster did not answer: ", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_from_serve_matches_the_cli_view()
    {
        var response = await GetAsync("?ref=" + Uri.EscapeDataString(ReportSpread.Ref) + "&namespace=billing&output=json", "oncall-token");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("\"summary\": {\n    \"pods\": 2,\n    \"current\": 0,\n    \"stale\": 2,\n    \"unknown\": 0\n  }", body, StringComparison.Ordinal);
    }

    [GeneratedRegex("<section class=\"namespace\" data-namespace=\"([^\"]+)\"")]
    private static partial Regex SectionNamespaces();

    [GeneratedRegex("<tr class=\"(current|stale|unknown)\">")]
    private static partial Regex RowClasses();

    [GeneratedRegex("<td class=\"version old\">([^<]*)</td>")]
    private static partial Regex OldVersionCells();

    [GeneratedRegex("<(script|link|img)\\b|url\\(", RegexOptions.IgnoreCase)]
    private static partial Regex SourceOrLink();
}
