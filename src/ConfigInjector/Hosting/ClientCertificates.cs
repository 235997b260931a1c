using System.Security.Cryptography.X509Certificates;
using ConfigInjector.Configuration;
using ConfigInjector.Tls;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace ConfigInjector.Hosting;

/// <summary>
/// <c>serve --client-ca</c>: only a caller with a client certificate signed by that CA (the API server, configured
/// through its admission-control kubeconfig) may ask for admissions. A certificate is asked for at the handshake but
/// not required there, so kubelet's probes (which present none) still reach <c>/healthz</c> and <c>/readyz</c>; a
/// certificate that does not chain to the CA fails the handshake, and <c>/mutate-pods</c> without one gets 401.
/// </summary>
internal static class ClientCertificates
{
    public static X509Certificate2Collection? LoadAuthorities(string? file, string workingDirectory)
    {
        if (file is null)
            return null;
        var path = Path.GetFullPath(file, workingDirectory);
        try
        {
            return CustomCaTrust.LoadBundle(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or System.Security.Cryptography.CryptographicException)
        {
            throw new ConfigException($"--client-ca {path}: {e.Message.Split('\n')[0]}");
        }
    }

    public static void Configure(HttpsConnectionAdapterOptions https, X509Certificate2Collection? authorities)
    {
        if (authorities is null)
            return;
        https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
        // No CRL or OCSP fetches: a client's certificate must not make the webhook call addresses it names.
        https.CheckCertificateRevocation = false;
        https.ClientCertificateValidation = (certificate, presented, _) => ChainsTo(certificate, presented, authorities);
    }

    private static bool ChainsTo(X509Certificate2 certificate, X509Chain? presented, X509Certificate2Collection authorities)
    {
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
        chain.ChainPolicy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.2"));
        return chain.Build(certificate);
    }

    public static Task RefuseAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync("a client certificate signed by the --client-ca authority is required\n");
    }
}
