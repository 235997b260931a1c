using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Builders;
using ConfigInjector.Tls;

namespace ConfigInjector.Tests.Tls;

/// <summary>
/// <c>serve --client-ca … --client-subject … --report-client-ca …</c> over real TLS: only the API server's own
/// certificate may admit; people's certificates come from their own CA and open <c>/report</c> only.
/// </summary>
public sealed class CallerCertificateTests : IAsyncLifetime
{
    private const string ApiServerName = "config-injector.config-injector.svc";
    private readonly X509Certificate2 _apiServerCa = CertificateFactory.CreateAuthority("apiserver-client-ca", TimeSpan.FromDays(1), DateTimeOffset.UtcNow);
    private readonly X509Certificate2 _peopleCa = CertificateFactory.CreateAuthority("security-team-ca", TimeSpan.FromDays(1), DateTimeOffset.UtcNow);
    private WebhookServer _server = null!;

    public async Task InitializeAsync()
    {
        var folder = ScratchDirectory.Create();
        await File.WriteAllTextAsync(Path.Combine(folder, "apiserver-ca.crt"), _apiServerCa.ExportCertificatePem());
        await File.WriteAllTextAsync(Path.Combine(folder, "people-ca.crt"), _peopleCa.ExportCertificatePem());
        _server = await WebhookServer.StartAsync(settings: s => s with
        {
            ClientCaFile = Path.Combine(folder, "apiserver-ca.crt"),
            ClientSubjects = [ApiServerName],
            ReportClientCaFile = Path.Combine(folder, "people-ca.crt"),
            ReportAccess = "subject:alice",
        });
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static StringContent Review() => new(AdmissionReviewBuilder.ForPod(PodBuilder.Injected().WithAnnotation("configinjector.io/secret.P", "dev:app/db#password")), Encoding.UTF8, "application/json");

    private async Task<(HttpStatusCode Status, string Body)> AdmitAsync(X509Certificate2 certificate)
    {
        using var client = _server.ClientPresenting(certificate);
        using var response = await client.PostAsync("/mutate-pods", Review());
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<(HttpStatusCode Status, string Body)> ReportAsync(X509Certificate2 certificate)
    {
        using var client = _server.ClientPresenting(certificate);
        using var response = await client.GetAsync("/report?ref=dev:app/db");
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData(ApiServerName)]
    [InlineData("kube-apiserver")]
    public async Task The_api_servers_certificate_by_its_cn_or_a_dns_name_gets_the_admission_answered(string commonName)
    {
        var (status, body) = await AdmitAsync(ClientCertificateFactory.Issue(_apiServerCa, commonName, "kube-apiserver.local", ApiServerName));

        var result = ReviewResult.Parse(status, body);
        Assert.Equal(HttpStatusCode.OK, result.HttpStatus);
        Assert.True(result.Allowed, result.Message);
    }

    [Fact]
    public async Task Another_certificate_of_the_api_servers_ca_gets_403_with_one_line_and_creates_nothing()
    {
        var before = _server.Secrets.Secrets.Count;

        var (status, body) = await AdmitAsync(ClientCertificateFactory.Issue(_apiServerCa, "someone-else", "someone-else.example"));

        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("the client certificate's CN and DNS names are none of --client-subject (the API server's certificate)\n", body);
        Assert.Equal(before, _server.Secrets.Secrets.Count);
    }

    [Theory]
    [InlineData("alice")]
    [InlineData(ApiServerName)]
    public async Task A_certificate_of_the_report_readers_ca_cannot_admit_even_with_the_api_servers_name(string commonName)
    {
        var before = _server.Secrets.Secrets.Count;

        var (status, body) = await AdmitAsync(ClientCertificateFactory.Issue(_peopleCa, commonName, ApiServerName));

        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("the client certificate is not from the --client-ca authority (the API server's)\n", body);
        Assert.Equal(before, _server.Secrets.Secrets.Count);
    }

    [Fact]
    public async Task The_report_takes_a_named_certificate_of_its_own_ca_only()
    {
        // Past the access check, a report needs a cluster: 503 means the caller was let in.
        var reader = await ReportAsync(ClientCertificateFactory.Issue(_peopleCa, "alice"));
        var sameNameFromTheApiServersCa = await ReportAsync(ClientCertificateFactory.Issue(_apiServerCa, "alice"));
        var unnamed = await ReportAsync(ClientCertificateFactory.Issue(_peopleCa, "mallory"));

        Assert.Equal((HttpStatusCode.ServiceUnavailable, "the report needs a cluster: serve is running without one\n"), reader);
        Assert.Equal(HttpStatusCode.Forbidden, sameNameFromTheApiServersCa.Status);
        Assert.Equal(HttpStatusCode.Forbidden, unnamed.Status);
    }

    [Fact]
    public async Task A_subject_with_a_multi_valued_rdn_is_matched_by_its_cn_and_never_a_500()
    {
        var named = ClientCertificateFactory.MultiValued((ClientCertificateFactory.CommonName, "alice"), (ClientCertificateFactory.Organization, "security"));
        var organizationOnly = ClientCertificateFactory.MultiValued((ClientCertificateFactory.CommonName, "mallory"), (ClientCertificateFactory.Organization, "alice"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await ReportAsync(ClientCertificateFactory.Issue(_peopleCa, named))).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await ReportAsync(ClientCertificateFactory.Issue(_peopleCa, organizationOnly))).Status);
    }

    [Fact]
    public async Task A_certificate_of_neither_ca_fails_the_handshake()
    {
        var stranger = CertificateFactory.CreateAuthority("someone-else", TimeSpan.FromDays(1), DateTimeOffset.UtcNow);

        await Assert.ThrowsAsync<HttpRequestException>(() => AdmitAsync(ClientCertificateFactory.Issue(stranger, ApiServerName)));
    }

    [Theory]
    [InlineData("--client-subject", "kube-apiserver", "--client-subject needs --client-ca (the CA bundle that signs the API server's client certificate)")]
    [InlineData("--admission-timeout", "soon", "--admission-timeout soon: not a positive duration such as 4s")]
    [InlineData("--admission-timeout", "0s", "--admission-timeout 0s: not a positive duration such as 4s")]
    public async Task Serve_refuses_flags_that_cannot_work_with_one_line_and_exit_2(string flag, string value, string error)
    {
        var (code, _, err) = await CliRunner.RunAsync("serve", "--urls", "https://127.0.0.1:0", flag, value);

        Assert.Equal(2, code);
        Assert.Equal("configinjector: " + error, err.Trim());
    }
}
