using ConfigInjector.Core.Refresh;
using ConfigInjector.Observability;
using ConfigInjector.Sync;

namespace ConfigInjector.Report;

/// <summary>
/// <c>POST /refresh</c> (DESIGN.md §5, §6): makes the refs a body names due now, for the clients <see cref="RefreshAccess"/>
/// names; the body forms are <see cref="RefreshRequestReader"/>'s. <c>OPTIONS /refresh</c> answers the CloudEvents
/// webhook abuse-protection handshake (https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/http-webhook.md#4-abuse-protection),
/// which Event Grid sends before delivering in the CloudEvents schema
/// (https://learn.microsoft.com/azure/event-grid/end-point-validation-cloud-events-schema). Answers carry refs and counts,
/// never a value; bad bodies get 400 with one line, oversize 413, floods 429.
/// </summary>
internal sealed partial class RefreshEndpoint : IDisposable
{
    public const string Path = "/refresh";
    public const long MaxBodyBytes = 1024 * 1024;
    public const string EndpointTrigger = "refresh-endpoint";

    // Per client address, then over everyone: Event Grid delivers from many addresses, a flood from one is refused first.
    public const int PerClientBurst = 10;
    public static readonly TimeSpan PerClientEvery = TimeSpan.FromSeconds(1);
    private const int EveryoneBurst = 50;
    private static readonly TimeSpan EveryoneEvery = TimeSpan.FromMilliseconds(100);

    private const string Refusal = "/refresh is only for the clients --refresh-access names (a client certificate subject, a bearer token's user or group, or the shared secret)";

    private readonly CallerGate _callers;
    private readonly ClientBuckets _clients;
    private readonly RateBucket _everyone;
    private readonly IReadOnlyList<KeyVaultTarget> _vaults;
    private readonly RefreshMetrics _metrics;
    private readonly ILogger<RefreshEndpoint> _log;
    private readonly IServiceProvider _services;

    public RefreshEndpoint(RefreshAccess access, Tls.ClientCertificates certificates, Configuration.InjectorConfig config, RefreshMetrics metrics, TimeProvider time,
        ILogger<RefreshEndpoint> log, IServiceProvider services)
    {
        var tokens = access.People.UsesTokens && services.GetService<ITokenReviewer>() is { } reviewer ? new TokenReviewGate(reviewer, time, RefreshAccess.TokenAudience) : null;
        var secret = access.SecretFile is { } file ? new SharedSecretFile(file, time, log) : null;
        _callers = new CallerGate(access.People, certificates, tokens, secret, Path, log);
        _clients = new ClientBuckets(PerClientBurst, PerClientEvery, time);
        _everyone = new RateBucket(EveryoneBurst, EveryoneEvery, time);
        _vaults = KeyVaults(config);
        _metrics = metrics;
        _log = log;
        _services = services;
    }

    public async Task PostAsync(HttpContext context)
    {
        if (await AdmitAsync(context) is not { } who)
            return;
        if (context.Request.Headers.ContainsKey("ce-specversion"))
        {
            await RefuseAsync(context, EndpointTrigger, 400, "a binary-mode CloudEvent (ce-* headers); send it in structured mode, Content-Type: application/cloudevents+json");
            return;
        }
        var body = await RefreshBody.ReadAsync(context, MaxBodyBytes);
        if (!body.IsOk)
        {
            await RefuseAsync(context, EndpointTrigger, body.Error!.StartsWith("the body is larger", StringComparison.Ordinal) ? 413 : 400, body.Error);
            return;
        }
        var read = RefreshRequestReader.Read(body.Value, _vaults);
        if (!read.IsOk)
        {
            await RefuseAsync(context, EndpointTrigger, 400, read.Error!);
            return;
        }
        if (read.Value is ValidationHandshake handshake)
        {
            _metrics.Request(RefreshForms.EventGrid, "handshake");
            LogHandshake(_log, who, "Event Grid subscription validation");
            await RefreshAnswer.WriteAsync(context, 200, w => w.WriteString("validationResponse", handshake.Code));
            return;
        }
        await RefreshAsync(context, who, (RefsToRefresh)read.Value!);
    }

    private async Task RefreshAsync(HttpContext context, string who, RefsToRefresh asked)
    {
        var trigger = asked.Form == RefreshForms.Refs ? EndpointTrigger : asked.Form;
        var outcome = new RefreshOutcome([], [], 0);
        if (asked.Patterns.Count > 0)
        {
            if (_services.GetService<IRefreshRequester>() is not { } requester)
            {
                await RefuseAsync(context, trigger, 503, "refresh needs the sync worker: serve is running without a cluster", "failed");
                return;
            }
            try
            {
                outcome = await requester.RequestAsync(asked.Patterns, trigger, context.RequestAborted);
            }
            catch (Exception e) when (!context.RequestAborted.IsCancellationRequested)
            {
                var id = Guid.NewGuid().ToString("N")[..8];
                LogFailed(_log, e, id);
                await RefuseAsync(context, trigger, CallerGate.IsClusterTrouble(e, context) ? 502 : 503, $"the refs could not be made due (error {id}; see the webhook log)", "failed");
                return;
            }
        }
        _metrics.Request(trigger, outcome.Matched.Count > 0 ? "refreshed" : "nothing_matched");
        _metrics.Refs(trigger, outcome.Matched.Count, outcome.Unknown.Count);
        LogRefreshed(_log, who, trigger, outcome.Matched.Count, outcome.Unknown.Count, outcome.SecretsMadeDue, asked.IgnoredEvents, RefreshAnswer.Patterns(outcome.Matched));
        await RefreshAnswer.WriteAsync(context, 200, w => RefreshAnswer.Outcome(w, trigger, outcome, asked.IgnoredEvents));
    }

    /// <summary>
    /// The abuse-protection handshake: permission is granted by echoing <c>WebHook-Request-Origin</c> in
    /// <c>WebHook-Allowed-Origin</c>, to allowed callers only, so a sender nobody configured gets no consent.
    /// </summary>
    public async Task OptionsAsync(HttpContext context)
    {
        if (await AdmitAsync(context) is not { } who)
            return;
        var origin = context.Request.Headers["WebHook-Request-Origin"].ToString();
        if (origin.Length is 0 or > 253 || !origin.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '*' or ':'))
        {
            await RefuseAsync(context, RefreshForms.CloudEvents, 400, "OPTIONS /refresh is the CloudEvents webhook handshake: a WebHook-Request-Origin header with the sender's DNS name is required");
            return;
        }
        context.Response.Headers.Allow = "POST, OPTIONS";
        context.Response.Headers["WebHook-Allowed-Origin"] = origin;
        context.Response.Headers["WebHook-Allowed-Rate"] = "*";
        _metrics.Request(RefreshForms.CloudEvents, "handshake");
        LogHandshake(_log, who, "CloudEvents abuse protection for " + origin);
    }

    /// <summary>The caller, or null once a refusal (401, 403, 429) is written; floods are refused before any token is reviewed.</summary>
    private async Task<string?> AdmitAsync(HttpContext context)
    {
        if (!_clients.For(context.Connection.RemoteIpAddress).TryTake(out var wait))
        {
            await ThrottleAsync(context, wait);
            return null;
        }
        if (await _callers.AdmitAsync(context, Refusal) is not { } who)
        {
            _metrics.Request(EndpointTrigger, context.Response.StatusCode == 429 ? "throttled" : "refused");
            return null;
        }
        if (!_everyone.TryTake(out wait))
        {
            await ThrottleAsync(context, wait);
            return null;
        }
        return who;
    }

    private Task ThrottleAsync(HttpContext context, TimeSpan wait)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return RefuseAsync(context, EndpointTrigger, 429, $"too many refresh requests; try again in {seconds}s", "throttled");
    }

    private Task RefuseAsync(HttpContext context, string trigger, int status, string reason, string result = "invalid")
    {
        _metrics.Request(trigger, result);
        LogRefused(_log, status, reason);
        return CallerGate.TextAsync(context, status, reason);
    }

    /// <summary>The vaults of the <c>azure-keyvault</c> backends, by the host of their <c>vaultUri</c>.</summary>
    private static List<KeyVaultTarget> KeyVaults(Configuration.InjectorConfig config) =>
        [.. config.Backends
            .Where(b => b.Type == "azure-keyvault" && Uri.TryCreate(b.Node.String("vaultUri"), UriKind.Absolute, out _))
            .Select(b => new KeyVaultTarget(b.Name, new Uri(b.Node.String("vaultUri")!).Host))];

    public void Dispose() => _callers.Dispose();

    [LoggerMessage(Level = LogLevel.Information, Message = "refresh for {Caller} ({Trigger}): {Matched} refs matched, {Unknown} unknown, {Secrets} Secrets made due, {Ignored} events ignored: {Patterns}")]
    private static partial void LogRefreshed(ILogger logger, string caller, string trigger, int matched, int unknown, int secrets, int ignored, string patterns);

    [LoggerMessage(Level = LogLevel.Information, Message = "refresh handshake for {Caller}: {What}")]
    private static partial void LogHandshake(ILogger logger, string caller, string what);

    [LoggerMessage(Level = LogLevel.Information, Message = "refresh refused ({Status}): {Reason}")]
    private static partial void LogRefused(ILogger logger, int status, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "refresh failed (error {Id})")]
    private static partial void LogFailed(ILogger logger, Exception exception, string id);
}
