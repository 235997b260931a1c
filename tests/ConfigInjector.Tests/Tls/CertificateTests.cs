using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using ConfigInjector.TestSupport;
using ConfigInjector.Tls;
using Microsoft.Extensions.Time.Testing;

namespace ConfigInjector.Tests.Tls;

public class CertificateTests
{
    [Fact]
    public async Task The_dev_certificate_is_created_once_and_reused()
    {
        await using (var first = await WebhookServer.StartAsync())
        {
            var folder = Path.Combine(first.WorkDir, "webhook-certs", "dev");
            Assert.True(File.Exists(Path.Combine(folder, "ca.crt")));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(folder, "tls.key")));
            var before = File.ReadAllText(Path.Combine(folder, "tls.crt"));

            Assert.False(DevCertificate.EnsureExists(folder, TimeProvider.System));
            Assert.Equal(before, File.ReadAllText(Path.Combine(folder, "tls.crt")));
        }
    }

    [Fact]
    public async Task A_rotated_certificate_is_served_without_a_restart()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await WebhookServer.StartAsync(settings: s => s with { Time = time });
        var folder = Path.Combine(server.WorkDir, "webhook-certs", "dev");
        var before = await ServedCertificate(server);

        using (var ca = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(folder, "ca.crt")))
        {
            // Same CA file, new serving pair: what cert-manager does at renewal.
            var fresh = Path.Combine(server.WorkDir, "fresh");
            using var authority = CertificateFactory.CreateAuthority("rotated CA", TimeSpan.FromDays(1), DateTimeOffset.UtcNow);
            using var serving = CertificateFactory.CreateServing(authority, ["localhost"], [IPAddress.Loopback], TimeSpan.FromDays(1), DateTimeOffset.UtcNow);
            CertificateFactory.WritePem(fresh, authority, serving);
            File.Copy(Path.Combine(fresh, "tls.crt"), Path.Combine(folder, "tls.crt"), true);
            File.Copy(Path.Combine(fresh, "tls.key"), Path.Combine(folder, "tls.key"), true);
        }
        time.Advance(TimeSpan.FromSeconds(10));

        var after = await ServedCertificate(server);
        Assert.NotEqual(before.Thumbprint, after.Thumbprint);
        Assert.Equal("CN=rotated CA", after.Issuer);
    }

    [Fact]
    public void A_serving_certificate_chains_to_its_authority_with_the_names_asked_for()
    {
        var now = DateTimeOffset.UtcNow;
        using var authority = CertificateFactory.CreateAuthority("test CA", TimeSpan.FromDays(30), now);
        using var serving = CertificateFactory.CreateServing(authority, ["svc", "svc.ns.svc"], [IPAddress.Loopback], TimeSpan.FromDays(10), now);

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        Assert.True(chain.Build(serving));
        var san = serving.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Equal(["svc", "svc.ns.svc"], san.EnumerateDnsNames());
        Assert.Equal([IPAddress.Loopback], san.EnumerateIPAddresses());
        Assert.True(serving.HasPrivateKey);
    }

    private static async Task<X509Certificate2> ServedCertificate(WebhookServer server)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.Client.BaseAddress!.Host, server.Client.BaseAddress.Port);
        X509Certificate2? seen = null;
        // Reads whatever certificate is served, to compare it: this client sends nothing and trusts nothing.
#pragma warning disable CA5359
        await using var tls = new SslStream(tcp.GetStream(), false, (_, certificate, _, _) =>
        {
            seen = X509CertificateLoader.LoadCertificate(certificate!.GetRawCertData());
            return true;
        });
#pragma warning restore CA5359
        await tls.AuthenticateAsClientAsync("localhost");
        return seen!;
    }
}
