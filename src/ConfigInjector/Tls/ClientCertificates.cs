using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ConfigInjector.Configuration;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace ConfigInjector.Tls;

/// <summary>
/// Client certificates from two authorities: <c>--client-ca</c> (the API server's, for <c>/mutate-pods</c>) and
/// <c>--report-client-ca</c> (people's, for <c>/report</c>; <c>--client-ca</c> when not given). A certificate is asked
/// for at the handshake but not required there, so kubelet's probes (which present none) still reach <c>/healthz</c> and
/// <c>/readyz</c>; one that chains to neither authority fails the handshake. Which authority vouched for it is
/// remembered from the handshake, so each endpoint accepts only its own.
/// </summary>
internal sealed class ClientCertificates
{
    private const int RememberedCertificates = 1024;

    private readonly X509Certificate2Collection? _admission;
    private readonly X509Certificate2Collection? _report;
    private readonly ConcurrentDictionary<string, (bool Admission, bool Report)> _vouched = new(StringComparer.Ordinal);

    private ClientCertificates(X509Certificate2Collection? admission, X509Certificate2Collection? report)
    {
        _admission = admission;
        _report = report ?? admission;
    }

    /// <param name="clientCaFile">--client-ca, the API server's authority.</param>
    /// <param name="reportClientCaFile">--report-client-ca, people's authority for /report.</param>
    public static ClientCertificates Load(string? clientCaFile, string? reportClientCaFile, string workingDirectory) => new(
        LoadAuthorities("--client-ca", clientCaFile, workingDirectory),
        LoadAuthorities("--report-client-ca", reportClientCaFile, workingDirectory));

    /// <summary><c>--client-ca</c> was given: <c>/mutate-pods</c> needs a certificate from it.</summary>
    public bool GuardsAdmission => _admission is not null;

    /// <summary>A CA for the people who read <c>/report</c> with a certificate (<c>--report-client-ca</c>, else <c>--client-ca</c>).</summary>
    public bool HasReportAuthority => _report is not null;

    private static X509Certificate2Collection? LoadAuthorities(string flag, string? file, string workingDirectory)
    {
        if (file is null)
            return null;
        var path = Path.GetFullPath(file, workingDirectory);
        try
        {
            return CustomCaTrust.LoadBundle(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or CryptographicException)
        {
            throw new ConfigException($"{flag} {path}: {e.Message.Split('\n')[0]}");
        }
    }

    public void Configure(HttpsConnectionAdapterOptions https)
    {
        if (_admission is null && _report is null)
            return;
        https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
        // No CRL or OCSP fetches: a client's certificate must not make the webhook call addresses it names.
        https.CheckCertificateRevocation = false;
        https.ClientCertificateValidation = (certificate, presented, _) =>
        {
            var vouched = (Admission: ChainsTo(certificate, presented, _admission), Report: ChainsTo(certificate, presented, _report));
            if (vouched is (false, false))
                return false;
            if (_vouched.Count >= RememberedCertificates)
                _vouched.Clear();
            _vouched[Thumbprint(certificate)] = vouched;
            return true;
        };
    }

    public bool IsFromAdmissionAuthority(X509Certificate2 certificate) => Vouched(certificate).Admission;

    public bool IsFromReportAuthority(X509Certificate2 certificate) => Vouched(certificate).Report;

    private (bool Admission, bool Report) Vouched(X509Certificate2 certificate) =>
        _vouched.TryGetValue(Thumbprint(certificate), out var vouched)
            ? vouched
            // Forgotten since its handshake (many clients): check again, with the CA files alone.
            : (ChainsTo(certificate, null, _admission), ChainsTo(certificate, null, _report));

    private static string Thumbprint(X509Certificate2 certificate) => certificate.GetCertHashString(HashAlgorithmName.SHA256);

    private static bool ChainsTo(X509Certificate2 certificate, X509Chain? presented, X509Certificate2Collection? authorities)
    {
        if (authorities is null)
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        // Issuers come from the CA file and from what the client sent (an intermediate), never from a URL in the
        // client's certificate (AIA): an unauthenticated caller must not make the webhook fetch anything.
        chain.ChainPolicy.DisableCertificateDownloads = true;
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
        }
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.2"));
        return chain.Build(certificate);
    }
}
