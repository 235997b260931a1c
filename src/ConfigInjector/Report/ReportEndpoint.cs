using ConfigInjector.Core.Report;
using ConfigInjector.Policies;

namespace ConfigInjector.Report;

/// <summary>
/// <c>GET /report?ref=REF[&amp;namespace=NS][&amp;output=json]</c>: the blast-radius report as a self-contained HTML page
/// (or JSON), for the clients <see cref="ReportAccess"/> names. Refs, versions and names only.
/// </summary>
internal sealed partial class ReportEndpoint(ReportAccess access, Tls.ClientCertificates certificates, IPolicySource policies, TimeProvider time,
    ILogger<ReportEndpoint> log, IServiceProvider services) : IDisposable
{
    public const string Path = "/report";

    private readonly CallerGate _callers = new(access, certificates,
        access.UsesTokens && services.GetService<ITokenReviewer>() is { } reviewer ? new TokenReviewGate(reviewer, time, ReportAccess.TokenAudience) : null,
        secret: null, Path, log);

    public async Task HandleAsync(HttpContext context)
    {
        if (await _callers.AdmitAsync(context, "the report is only for the clients --report-access names (a client certificate subject, or a bearer token's user or group)") is not { } who)
            return;
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

    public void Dispose()
    {
        _building.Dispose();
        _callers.Dispose();
    }

    private readonly SemaphoreSlim _building = new(1);

    private static bool IsClusterTrouble(Exception e, HttpContext context) => CallerGate.IsClusterTrouble(e, context);

    private static Task TextAsync(HttpContext context, int status, string message) => CallerGate.TextAsync(context, status, message);

    [LoggerMessage(Level = LogLevel.Information, Message = "report for {Caller}: {Pattern}, {Pods} pods, {Stale} on an older version")]
    private static partial void LogServed(ILogger logger, string caller, string pattern, int pods, int stale);
}
