using System.Net;

namespace ConfigInjector.Tls;

/// <summary>The embedded default's certificate: created under <c>webhook-certs/dev/</c> on first start, reused afterwards.</summary>
internal static class DevCertificate
{
    public const string Folder = "webhook-certs/dev";

    /// <returns>True when a new certificate was created.</returns>
    public static bool EnsureExists(string folder, TimeProvider time)
    {
        if (File.Exists(Path.Combine(folder, "tls.crt")) && File.Exists(Path.Combine(folder, "tls.key")))
            return false;
        var now = time.GetUtcNow();
        using var authority = CertificateFactory.CreateAuthority("configinjector dev CA", TimeSpan.FromDays(365), now);
        using var serving = CertificateFactory.CreateServing(authority, ["localhost"], [IPAddress.Loopback, IPAddress.IPv6Loopback], TimeSpan.FromDays(365), now);
        CertificateFactory.WritePem(folder, authority, serving);
        return true;
    }
}
