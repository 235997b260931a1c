using ConfigInjector.Core.Report;
using ConfigInjector.Policies;
using ConfigInjector.Sync;

namespace ConfigInjector.Report;

/// <summary>
/// <c>GET /report?ref=REF[&amp;namespace=NS][&amp;output=json]</c>: the blast-radius report as a self-contained HTML page
/// (or JSON), for the clients <see cref="ReportAccess"/> names. Refs, versions and names only.
/// </summary>
internal sealed partial class ReportEndpoint(ReportAccess access, Tls.ClientCertificates certificates, IPolicySource policies, TimeProvider time,
    ILogger<ReportEndpoint> log, IServiceProvider services) : IDisposable
{
    public const string Path = "/report";

    private readonly TokenReviewGate? _tokens = access.UsesTokens && services.GetService<ITokenReviewer>() is { } reviewer ? new TokenReviewGate(reviewer, time) : null;

    public async Task HandleAsync(HttpContext context)
    {
        var (who, retryAfter) = await WhoAsync(context);
        if (retryAfter is { } wait)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await TextAsync(context, 429, $"too many new bearer tokens to check; try again in {seconds}s");
            return;
        }
        if (who is null)
        {
            await TextAsync(context, context.Request.Headers.Authorization.Count == 0 && context.Connection.ClientCertificate is null ? 401 : 403,
                "the report is only for the clients --report-access names (a client certificate subject, or a bearer token's user or group)");
            return;
        }
        var pattern = RefPattern.Parse(context.Request.Query["ref"]);
        if (!pattern.IsOk)
        {
            await TextAsync(context, 400, $"ref: {pattern.Error}");
            return;
        }
        if (services.GetService<ReportService>() is not { } reports)
        {
            await TextAsync(context, 503, "the report needs a cluster: serve is running without one");
            return;
        }
        var ns = context.Request.Query["namespace"].ToString() is { Length: > 0 } given ? given : null;
        // Each report lists the whole cluster: one at a time in this process, which also admits pods.
        if (!await _building.WaitAsync(TimeSpan.Zero))
        {
            context.Response.Headers.RetryAfter = "5";
            await TextAsync(context, 429, "a report is being built; try again in a few seconds");
            return;
        }
        BlastRadiusReport report;
        try
        {
            report = await reports.BuildAsync(pattern.Value!, ns, policies.Current, context.RequestAborted);
        }
        catch (Exception e) when (IsClusterTrouble(e, context))
        {
            await TextAsync(context, 502, $"the cluster did not answer: {e.Message.Split('\n')[0]}");
            return;
        }
        finally
        {
            _building.Release();
        }
        LogServed(log, who, pattern.Value!.ToString(), report.Summary.Pods, report.Summary.PodsStale);
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers["X-Content-Type-Options"] = "nosniff";
        if (context.Request.Query["output"] == "json")
        {
            context.Response.ContentType = "application/json; charset=utf-8";
            await context.Response.WriteAsync(ReportText.JsonText(report));
            return;
        }
        context.Response.Headers.ContentSecurityPolicy = ReportPage.ContentSecurityPolicy;
        context.Response.ContentType = "text/html; charset=utf-8";
        await context.Response.WriteAsync(ReportPage.Render(report, time.GetUtcNow()));
    }

    /// <summary>The allowed caller's name (null: refused), or how long to wait before sending a new token.</summary>
    private async Task<TokenReviewGate.Verdict> WhoAsync(HttpContext context)
    {
        if (context.Connection.ClientCertificate is { } certificate && certificates.IsFromReportAuthority(certificate) && access.AllowsCertificate(certificate))
            return new(certificate.Subject, null);
        var authorization = context.Request.Headers.Authorization.ToString();
        if (_tokens is null || !authorization.StartsWith("Bearer ", StringComparison.Ordinal))
            return new(null, null);
        try
        {
            return await _tokens.CheckAsync(authorization["Bearer ".Length..].Trim(), context.Connection.RemoteIpAddress, access.AllowsUser, context.RequestAborted);
        }
        catch (Exception e) when (IsClusterTrouble(e, context))
        {
            LogReviewFailed(log, e.Message.Split('\n')[0]);
            return new(null, null);
        }
    }

    public void Dispose()
    {
        _building.Dispose();
        _tokens?.Dispose();
    }

    private readonly SemaphoreSlim _building = new(1);

    /// <summary>The API server unreachable, slow, or answering with an error: a 502 with the reason, never a 500.</summary>
    private static bool IsClusterTrouble(Exception e, HttpContext context) =>
        e is ClusterApiException or HttpRequestException or IOException or System.Text.Json.JsonException
        || (e is TaskCanceledException && !context.RequestAborted.IsCancellationRequested);

    private static Task TextAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(message + "\n");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "report for {Caller}: {Pattern}, {Pods} pods, {Stale} on an older version")]
    private static partial void LogServed(ILogger logger, string caller, string pattern, int pods, int stale);

    [LoggerMessage(Level = LogLevel.Warning, Message = "TokenReview for /report failed: {Reason}")]
    private static partial void LogReviewFailed(ILogger logger, string reason);
}
