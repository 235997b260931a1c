using System.Net;
using System.Net.Http.Headers;
using System.Text;
using ConfigInjector.Report;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Builders;

namespace ConfigInjector.Tests.Hosting;

/// <summary>
/// <c>serve --metrics-urls</c>: a listener a NetworkPolicy can open to scrapers without opening the admission path.
/// It answers <c>GET /metrics</c> and 404 to everything else, even with the credentials the main port would accept.
/// </summary>
public sealed class MetricsListenerTests
{
    [Theory]
    [InlineData("http")]
    [InlineData("https")]
    public async Task The_metrics_port_serves_get_metrics_and_nothing_else_while_the_main_port_keeps_everything(string scheme)
    {
        await using var cluster = await ClusterEnvironment.StartAsync();
        cluster.Api.AddTokenFor(ReportAccess.TokenAudience, "oncall-token", "alice", "security");
        var server = await cluster.StartReplicaAsync(settings: s => s with { ReportAccess = "group:security", MetricsUrls = [$"{scheme}://127.0.0.1:0"] });
        // Over https the metrics listener serves the webhook's certificate and asks for no client certificate.
        using var scraper = WebhookServer.TrustingClient(Path.Combine(server.WorkDir, "webhook-certs", "dev", "ca.crt"));
        scraper.BaseAddress = server.Addresses.Single(a => a != server.Client.BaseAddress);
        var review = AdmissionReviewBuilder.ForPod(PodBuilder.Injected("scraped").WithAnnotation("configinjector.io/secret.DB_PASSWORD", "vault-prod:secret/shop/db#password"), "shop");

        using var scrape = await scraper.GetAsync("/metrics");
        Assert.Equal((scheme, HttpStatusCode.OK), (scraper.BaseAddress.Scheme, scrape.StatusCode));
        Assert.Contains("configinjector_admission_requests_total", await scrape.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await scraper.PostAsync("/mutate-pods", Json(review))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await scraper.PostAsync("/metrics", Json("{}"))).StatusCode);
        foreach (var path in new[] { "/report?ref=vault-prod:secret/shop/db&output=json", "/refresh", "/healthz", "/readyz", "/metrics/more" })
            Assert.Equal((path, HttpStatusCode.NotFound), (path, (await SendAsync(scraper, path)).StatusCode));

        // The main port is as it was: admissions, the report for its readers, and /metrics.
        Assert.Equal(HttpStatusCode.OK, (await server.PostReviewAsync(review)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(server.Client, "/report?ref=vault-prod:secret/shop/db&output=json")).StatusCode);
        Assert.Contains("configinjector_admission_requests_total", await server.Client.GetStringAsync("/metrics"), StringComparison.Ordinal);
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "oncall-token");
        return await client.SendAsync(request);
    }
}
