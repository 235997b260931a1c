using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using ConfigInjector.Report;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Fakes;
using ConfigInjector.Tls;

namespace ConfigInjector.Tests.Report;

/// <summary>
/// <c>GET /report</c> against the fake API server, as its readers meet it: one report is built at a time (another
/// asked meanwhile gets 429 with Retry-After, and the next one answers again), and a reader named by a client
/// certificate of <c>--report-client-ca</c> gets the report while another certificate of that CA does not.
/// </summary>
public sealed class ReportEndpointTests : IAsyncLifetime
{
    private const string Query = "/report?ref=vault-prod:secret/shop/db&output=json";
    private readonly X509Certificate2 _peopleCa = CertificateFactory.CreateAuthority("security-team-ca", TimeSpan.FromDays(1), DateTimeOffset.UtcNow);
    private ClusterEnvironment _cluster = null!;
    private WebhookServer _server = null!;

    public async Task InitializeAsync()
    {
        _cluster = await ClusterEnvironment.StartAsync();
        _cluster.Api.AddTokenFor(ReportAccess.TokenAudience, "oncall-token", "alice", "security");
        var caFile = Path.Combine(ScratchDirectory.Create(), "people-ca.crt");
        await File.WriteAllTextAsync(caFile, _peopleCa.ExportCertificatePem());
        _server = await _cluster.StartReplicaAsync(settings: s => s with { ReportAccess = "subject:carol,group:security", ReportClientCaFile = caFile });
        await _cluster.AdmitAsync(_server, ClusterEnvironment.PodOf(_cluster.Api.AddDeployment("shop", "web"))
            .WithAnnotation("configinjector.io/secret.DB_PASSWORD", "vault-prod:secret/shop/db#password"), "web-1");
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private async Task<HttpResponseMessage> GetAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Query);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "oncall-token");
        return await _server.Client.SendAsync(request);
    }

    private static async Task<IReadOnlyList<string>> PodsAsync(HttpResponseMessage response) =>
        [.. JsonNode.Parse(await response.Content.ReadAsStringAsync())!["rows"]!.AsArray().Select(r => r!["pod"]!.GetValue<string>())];

    [Fact]
    public async Task Two_reports_in_a_row_both_answer()
    {
        using var first = await GetAsync();
        using var second = await GetAsync();

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (first.StatusCode, second.StatusCode));
        Assert.Equal(["web-1"], await PodsAsync(second));
    }

    [Fact]
    public async Task A_report_asked_while_one_is_being_built_gets_429_with_retry_after_and_the_next_one_answers()
    {
        using var listing = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        // Only the report lists DaemonSets: the first report is held there, mid-build, until the second has been answered.
        _cluster.Api.BeforeNext("GET", "daemonsets", null, () =>
        {
            listing.Set();
            release.Wait(TimeSpan.FromSeconds(20));
        });
        var first = GetAsync();
        await Eventually.TrueAsync(() => listing.IsSet, "the first report to be listing the cluster");

        using var meanwhile = await GetAsync();
        release.Set();

        Assert.Equal(HttpStatusCode.TooManyRequests, meanwhile.StatusCode);
        Assert.Equal("5", meanwhile.Headers.RetryAfter!.ToString());
        Assert.Equal("a report is being built; try again in a few seconds\n", await meanwhile.Content.ReadAsStringAsync());
        using var held = await first;
        Assert.Equal(HttpStatusCode.OK, held.StatusCode);
        using var next = await GetAsync();
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task A_reader_named_by_a_certificate_gets_the_report_and_another_certificate_of_the_same_ca_gets_403()
    {
        using var carol = _server.ClientPresenting(ClientCertificateFactory.Issue(_peopleCa, "carol"));
        using var mallory = _server.ClientPresenting(ClientCertificateFactory.Issue(_peopleCa, "mallory"));

        using var named = await carol.GetAsync(Query);
        using var unnamed = await mallory.GetAsync(Query);

        Assert.Equal(HttpStatusCode.OK, named.StatusCode);
        Assert.Equal(["web-1"], await PodsAsync(named));
        Assert.Equal(HttpStatusCode.Forbidden, unnamed.StatusCode);
        Assert.Equal(0, _cluster.Api.Count("POST tokenreviews"));
    }
}
