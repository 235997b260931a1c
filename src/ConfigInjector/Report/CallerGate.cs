using ConfigInjector.Sync;

namespace ConfigInjector.Report;

/// <summary>
/// Who calls an endpoint an access list guards (<c>/report</c>, <c>/refresh</c>): a client certificate of the readers'
/// CA whose subject is named, the shared secret of <see cref="SharedSecretFile"/>, or a bearer token the API server's
/// TokenReview says is a named user or in a named group (within the <see cref="TokenReviewGate"/>'s bounds). Anyone else
/// is answered 401 (nothing presented), 403 (refused) or 429 (too many new tokens), with one line.
/// </summary>
internal sealed partial class CallerGate(ReportAccess access, Tls.ClientCertificates certificates, TokenReviewGate? tokens, SharedSecretFile? secret, string endpoint, ILogger log) : IDisposable
{
    /// <summary>The caller's name, or null once the refusal has been written.</summary>
    /// <param name="refusal">What the 401/403 says the endpoint is for.</param>
    public async Task<string?> AdmitAsync(HttpContext context, string refusal)
    {
        var (who, retryAfter) = await WhoAsync(context);
        if (retryAfter is { } wait)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await TextAsync(context, 429, $"too many new bearer tokens to check; try again in {seconds}s");
            return null;
        }
        if (who is null)
        {
            await TextAsync(context, context.Request.Headers.Authorization.Count == 0 && context.Connection.ClientCertificate is null ? 401 : 403, refusal);
            return null;
        }
        return who;
    }

    private async Task<TokenReviewGate.Verdict> WhoAsync(HttpContext context)
    {
        if (context.Connection.ClientCertificate is { } certificate && certificates.IsFromReportAuthority(certificate) && access.AllowsCertificate(certificate))
            return new(certificate.Subject, null);
        var authorization = context.Request.Headers.Authorization.ToString();
        if (!authorization.StartsWith("Bearer ", StringComparison.Ordinal))
            return new(null, null);
        var bearer = authorization["Bearer ".Length..].Trim();
        if (secret is not null && secret.Matches(bearer))
            return new("secret-file:" + secret.Path, null);
        if (tokens is null)
            return new(null, null);
        try
        {
            return await tokens.CheckAsync(bearer, context.Connection.RemoteIpAddress, access.AllowsUser, context.RequestAborted);
        }
        catch (Exception e) when (IsClusterTrouble(e, context))
        {
            LogReviewFailed(log, endpoint, e.Message.Split('\n')[0]);
            return new(null, null);
        }
    }

    public void Dispose() => tokens?.Dispose();

    /// <summary>The API server unreachable, slow, or answering with an error: a 502 with the reason, never a 500.</summary>
    public static bool IsClusterTrouble(Exception e, HttpContext context) =>
        e is ClusterApiException or HttpRequestException or IOException or System.Text.Json.JsonException
        || (e is TaskCanceledException && !context.RequestAborted.IsCancellationRequested);

    public static Task TextAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(message + "\n");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "TokenReview for {Endpoint} failed: {Reason}")]
    private static partial void LogReviewFailed(ILogger logger, string endpoint, string reason);
}
