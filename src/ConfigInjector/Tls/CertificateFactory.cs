using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ConfigInjector.Tls;

/// <summary>A CA and the serving certificates it signs (ECDSA P-256), for the dev certificate and <c>certs generate</c>.</summary>
internal static class CertificateFactory
{
    public static X509Certificate2 CreateAuthority(string commonName, TimeSpan lifetime, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(now.AddMinutes(-5), now.Add(lifetime));
    }

    public static X509Certificate2 CreateServing(X509Certificate2 authority, IEnumerable<string> dnsNames, IEnumerable<IPAddress> addresses, TimeSpan lifetime, DateTimeOffset now)
    {
        var names = dnsNames.ToList();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={names.FirstOrDefault() ?? "configinjector"}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in names)
            san.AddDnsName(name);
        foreach (var address in addresses)
            san.AddIpAddress(address);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, true, false));

        var notAfter = now.Add(lifetime) < authority.NotAfter ? now.Add(lifetime) : authority.NotAfter;
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var signed = request.Create(authority, now.AddMinutes(-5), notAfter, serial);
        return signed.CopyWithPrivateKey(key);
    }

    /// <summary>Writes ca.crt, tls.crt and tls.key (keys owner-only) into a folder; ca.key too when asked, to sign renewals.</summary>
    public static void WritePem(string folder, X509Certificate2 authority, X509Certificate2 serving, bool writeAuthorityKey = false)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "ca.crt"), authority.ExportCertificatePem() + "\n");
        File.WriteAllText(Path.Combine(folder, "tls.crt"), serving.ExportCertificatePem() + "\n");
        WriteKey(Path.Combine(folder, "tls.key"), serving);
        if (writeAuthorityKey)
            WriteKey(Path.Combine(folder, "ca.key"), authority);
    }

    /// <summary>
    /// Created owner-only from the first moment: a file made with the umask and narrowed afterwards could be opened by
    /// anyone in between, and an open handle keeps reading after the mode changes. A file already there (--force) is
    /// replaced, not rewritten, for the same reason.
    /// </summary>
    public static void WriteKey(string path, X509Certificate2 certificate)
    {
        File.Delete(path);
        using var writer = new StreamWriter(OwnerOnlyFile.CreateNew(path));
        writer.Write(certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem() + "\n");
    }
}
