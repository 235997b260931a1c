using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Builders;
using ConfigInjector.Tls;

namespace ConfigInjector.Tests.Tls;

/// <summary><c>serve --client-ca</c>: only a caller holding a client certificate from that CA gets admissions answered.</summary>
public sealed class ClientCaTests : IAsyncLifetime
{
    private readonly X509Certificate2 _apiServerCa = CertificateFactory.CreateAuthority("apiserver-client-ca", TimeSpan.FromDays(1), DateTimeOffset.UtcNow);
    private WebhookServer _server = null!;

    public async Task InitializeAsync()
    {
        var caFile = Path.Combine(ScratchDirectory.Create(), "client-ca.crt");
        await File.WriteAllTextAsync(caFile, _apiServerCa.ExportCertificatePem());
        _server = await WebhookServer.StartAsync(settings: s => s with { ClientCaFile = caFile });
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static X509Certificate2 ClientCertificate(X509Certificate2 authority, string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var signed = request.Create(authority, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1), RandomNumberGenerator.GetBytes(8));
        // A PKCS#12 round trip gives SslStream a certificate whose key it can use on every platform.
        using var withKey = signed.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    private HttpClient Client(X509Certificate2? certificate)
    {
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = CustomCaTrust.Validator(CustomCaTrust.LoadBundle(Path.Combine(_server.WorkDir, "webhook-certs", "dev", "ca.crt")));
        if (certificate is not null)
            handler.SslOptions.ClientCertificates = [certificate];
        return new HttpClient(handler) { BaseAddress = _server.Client.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    private static StringContent Review() => new(AdmissionReviewBuilder.ForPod(PodBuilder.Injected().WithAnnotation("configinjector.io/secret.P", "dev:app/db#password")), Encoding.UTF8, "application/json");

    [Fact]
    public async Task The_api_servers_certificate_gets_the_admission_answered()
    {
        using var client = Client(ClientCertificate(_apiServerCa, "kube-apiserver"));

        using var response = await client.PostAsync("/mutate-pods", Review());
        var result = ReviewResult.Parse(response.StatusCode, await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, result.HttpStatus);
        Assert.True(result.Allowed);
    }

    [Fact]
    public async Task Without_a_certificate_admission_gets_401_and_creates_nothing_while_probes_still_answer()
    {
        using var client = Client(null);
        var before = _server.Secrets.Secrets.Count;

        using var response = await client.PostAsync("/mutate-pods", Review());
        using var health = await client.GetAsync("/healthz");
        using var ready = await client.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("a client certificate signed by the --client-ca authority is required\n", await response.Content.ReadAsStringAsync());
        Assert.Equal(before, _server.Secrets.Secrets.Count);
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (health.StatusCode, ready.StatusCode));
    }

    [Fact]
    public async Task A_certificate_from_another_authority_fails_the_handshake()
    {
        var stranger = CertificateFactory.CreateAuthority("someone-else", TimeSpan.FromDays(1), DateTimeOffset.UtcNow);
        using var client = Client(ClientCertificate(stranger, "kube-apiserver"));
        var before = _server.Secrets.Secrets.Count;

        await Assert.ThrowsAsync<HttpRequestException>(() => client.PostAsync("/mutate-pods", Review()));
        Assert.Equal(before, _server.Secrets.Secrets.Count);
    }
}
