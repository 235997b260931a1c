using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace ConfigInjector.Tls;

/// <summary>
/// Server certificate validation against a private CA bundle (a <c>caFile</c>), as a client of Vault or of this
/// webhook would do with a caBundle: the chain must end in one of the given roots and the name must match.
/// </summary>
internal static class CustomCaTrust
{
    public static X509Certificate2Collection LoadBundle(string pemFile)
    {
        var bundle = new X509Certificate2Collection();
        bundle.ImportFromPemFile(pemFile);
        if (bundle.Count == 0)
            throw new InvalidOperationException($"{pemFile} holds no PEM certificate");
        return bundle;
    }

    public static RemoteCertificateValidationCallback Validator(X509Certificate2Collection roots) => (_, certificate, _, errors) =>
    {
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    };
}
