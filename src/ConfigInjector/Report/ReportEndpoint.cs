using ConfigInjector.Core.Report;
using ConfigInjector.Policies;
using ConfigInjector.Sync;

namespace ConfigInjector.Report;

/// <summary>
/// <c>GET /report?ref=REF[&amp;namespace=NS][&amp;output=json]</c>: the blast-radius report as a self-contained HTML page
/// (or JSON), for the clients <see cref="ReportAccess"/> names. Refs, versions and names only.
/// </summary>
internal sealed partial class ReportEndpoint(ReportAccess access, IPolicySource policies, TimeProvider time, ILogger<ReportEndpoint> log, IServiceProvider services) : IDisposable
{
    public const string Path = "/report";

    public async Task HandleAsync(HttpContext context)
    {
        var who = await WhoAsync(context);
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

    /// <summary>The allowed caller's name, or null.</summary>
    private async Task<string?> WhoAsync(HttpContext context)
    {
        if (access.AllowsCertificate(context.Connection.ClientCertificate))
            return context.Connection.ClientCertificate!.Subject;
        var authorization = context.Request.Headers.Authorization.ToString();
        if (!access.UsesTokens || !authorization.StartsWith("Bearer ", StringComparison.Ordinal) || services.GetService<ITokenReviewer>() is not { } reviewer)
            return null;
        var token = authorization["Bearer ".Length..].Trim();
        // A token seen lately is not reviewed again (by its hash: the token itself is kept nowhere), and only a few
        // reviews run at once: anyone who reaches the Service can send a bearer token.
        var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)));
        if (_reviewed.TryGetValue(hash, out var seen) && time.GetUtcNow() - seen.At < ReviewCacheTime)
            return seen.User;
        if (!await _reviewing.WaitAsync(TimeSpan.FromSeconds(5), context.RequestAborted))
            return null;
        try
        {
            var user = await reviewer.ReviewAsync(token, context.RequestAborted);
            var allowed = user is { } u && access.AllowsUser(u.User, u.Groups) ? u.User : null;
            if (_reviewed.Count > 1000)
                _reviewed.Clear();
            _reviewed[hash] = (allowed, time.GetUtcNow());
            return allowed;
        }
        catch (Exception e) when (IsClusterTrouble(e, context))
        {
            LogReviewFailed(log, e.Message.Split('\n')[0]);
            return null;
        }
        finally
        {
            _reviewing.Release();
        }
    }

    public void Dispose()
    {
        _building.Dispose();
        _reviewing.Dispose();
    }

    private static readonly TimeSpan ReviewCacheTime = TimeSpan.FromSeconds(30);
    private readonly SemaphoreSlim _building = new(1);
    private readonly SemaphoreSlim _reviewing = new(4);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (string? User, DateTimeOffset At)> _reviewed = new(StringComparer.Ordinal);

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
