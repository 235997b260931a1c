using ConfigInjector.Tls;

namespace ConfigInjector.Hosting;

/// <summary>
/// Who may POST <c>/mutate-pods</c>: with <c>--client-ca</c>, a client certificate from that authority (none: 401);
/// with <c>--client-subject</c> too, only one whose CN or a DNS name is listed (the API server's own), so a certificate
/// the same CA issued to someone else, or one from <c>--report-client-ca</c>, gets 403.
/// </summary>
internal sealed class AdmissionCallers(ClientCertificates certificates, IReadOnlySet<string> subjects)
{
    /// <summary>The status and one-line reason to refuse this caller with, or null to admit it.</summary>
    public (int Status, string Reason)? Refusal(HttpContext context)
    {
        if (!certificates.GuardsAdmission)
            return null;
        var certificate = context.Connection.ClientCertificate;
        if (certificate is null)
            return (StatusCodes.Status401Unauthorized, "a client certificate signed by the --client-ca authority is required");
        if (!certificates.IsFromAdmissionAuthority(certificate))
            return (StatusCodes.Status403Forbidden, "the client certificate is not from the --client-ca authority (the API server's)");
        if (subjects.Count > 0 && !CertificateNames.AnyIn(certificate, subjects))
            return (StatusCodes.Status403Forbidden, "the client certificate's CN and DNS names are none of --client-subject (the API server's certificate)");
        return null;
    }

    public static Task RefuseAsync(HttpContext context, (int Status, string Reason) refusal)
    {
        context.Response.StatusCode = refusal.Status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(refusal.Reason + "\n");
    }
}
