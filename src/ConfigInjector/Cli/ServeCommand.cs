using System.CommandLine;
using ConfigInjector.Hosting;

namespace ConfigInjector.Cli;

/// <summary><c>configinjector serve</c>: the webhook (and, in a cluster, the sync worker).</summary>
internal static class ServeCommand
{
    public static Command Create(CommonOptions common)
    {
        var urls = new Option<string[]>("--urls") { Description = $"HTTPS addresses to listen on (default {ServeSettings.DefaultUrl})", AllowMultipleArgumentsPerToken = true };
        var metricsUrls = new Option<string[]>(ListenAddress.MetricsFlag) { Description = "extra addresses that serve GET /metrics alone, e.g. http://[::]:9090 (plain http allowed: metrics carry no values); every other path is 404 there. /metrics stays on --urls too", AllowMultipleArgumentsPerToken = true };
        var cert = new Option<string?>("--tls-cert") { Description = "PEM serving certificate (default: a dev certificate under webhook-certs/dev/)" };
        var key = new Option<string?>("--tls-key") { Description = "PEM private key of --tls-cert" };
        var kubeconfig = new Option<string?>("--kubeconfig") { Description = "kubeconfig file (default: KUBECONFIG, then the in-cluster service account; with none, an in-process Secret store)" };
        var clientCa = new Option<string?>("--client-ca") { Description = "PEM CA bundle: /mutate-pods then requires a client certificate signed by it (the API server's, from its admission-control kubeconfig)" };
        var clientSubject = new Option<string[]>("--client-subject") { Description = "with --client-ca: only a client certificate whose CN or a DNS name is this (repeatable; the API server's) may POST /mutate-pods" };
        var reportClientCa = new Option<string?>("--report-client-ca") { Description = "PEM CA bundle for the client certificates of people who read /report (--report-access subject:…); default --client-ca" };
        var admissionTimeout = new Option<string?>("--admission-timeout") { Description = "deadline of one admission (e.g. 4s; default the config's webhook.admissionTimeout, 10s): keep it under the API server's webhook timeout" };
        var logFormat = new Option<string>("--log-format") { Description = "simple (one text line) or json (one JSON object per line)", DefaultValueFactory = _ => "simple" };
        logFormat.AcceptOnlyFromAmong("simple", "json");
        var shutdownDelay = new Option<string>("--shutdown-delay") { Description = "after SIGTERM, keep serving this long with /readyz failing so endpoints move first (e.g. 5s)", DefaultValueFactory = _ => "0s" };
        var reportAccess = new Option<string?>("--report-access") { Description = "serve GET /report to these clients only: subject:<cert subject or CN> (needs --client-ca), user:<name>, group:<name> (bearer tokens, by TokenReview); comma-separated. Off when not given" };
        var refreshAccess = new Option<string?>("--refresh-access") { Description = "serve POST /refresh (refs, Event Grid and CloudEvents deliveries) to these clients only: the forms of --report-access, plus secret-file:<path> (a shared secret sent as Authorization: Bearer); comma-separated. Off when not given" };
        var release = new Option<string>("--release") { Description = $"the install's name (the chart passes its fullname): its Lease is <release>-sync and its signing key the Secret <release>-signing-key in POD_NAMESPACE, so two installs never share them (default {ReleaseNames.DefaultRelease})", DefaultValueFactory = _ => ReleaseNames.DefaultRelease };
        var command = new Command("serve", "Run the mutating admission webhook over HTTPS, and in a cluster the sync worker.") { urls, metricsUrls, cert, key, kubeconfig, clientCa, clientSubject, reportClientCa, admissionTimeout, logFormat, shutdownDelay, reportAccess, refreshAccess, release };
        common.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = new ServeSettings
            {
                Urls = parse.GetValue(urls) is { Length: > 0 } given ? given : [ServeSettings.DefaultUrl],
                MetricsUrls = parse.GetValue(metricsUrls) ?? [],
                ConfigFile = parse.GetValue(common.Config),
                PoliciesFolder = parse.GetValue(common.Policies),
                CertFile = parse.GetValue(cert),
                KeyFile = parse.GetValue(key),
                Kubeconfig = parse.GetValue(kubeconfig),
                ClientCaFile = parse.GetValue(clientCa),
                ClientSubjects = parse.GetValue(clientSubject) ?? [],
                ReportClientCaFile = parse.GetValue(reportClientCa),
                AdmissionTimeout = parse.GetValue(admissionTimeout) is { } deadline ? PositiveDuration("--admission-timeout", deadline) : null,
                ReportAccess = parse.GetValue(reportAccess),
                RefreshAccess = parse.GetValue(refreshAccess),
                Release = ReleaseNames.For(parse.GetValue(release)!).Release,
                LogFormat = parse.GetValue(logFormat)!,
                ShutdownDelay = Configuration.DurationParser.TryParse(parse.GetValue(shutdownDelay)!, out var delay) && delay >= TimeSpan.Zero
                    ? delay
                    : throw new Configuration.ConfigException($"--shutdown-delay {parse.GetValue(shutdownDelay)}: not a duration such as 5s"),
            };
            await using var app = WebhookHost.Build(settings);
            await app.RunAsync(cancellationToken);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static TimeSpan PositiveDuration(string flag, string text) =>
        Configuration.DurationParser.TryParse(text, out var duration) && duration > TimeSpan.Zero
            ? duration
            : throw new Configuration.ConfigException($"{flag} {Core.Text.Quote.Short(text)}: not a positive duration such as 4s");
}
