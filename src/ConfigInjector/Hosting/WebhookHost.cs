using ConfigInjector.Admission;
using ConfigInjector.Backends;
using ConfigInjector.Configuration;
using ConfigInjector.Kubernetes;
using ConfigInjector.ManagedSecrets;
using ConfigInjector.Observability;
using ConfigInjector.Policies;
using ConfigInjector.Sync;
using ConfigInjector.Tls;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Prometheus;

namespace ConfigInjector.Hosting;

/// <summary>
/// Builds the <c>serve</c> process: validated configuration, backends, policies, the TLS certificate source and
/// the HTTP surface of DESIGN.md §6. Any configuration mistake surfaces as a <see cref="ConfigException"/> before listening.
/// </summary>
internal static partial class WebhookHost
{
    private sealed record ClusterDescription(string Text);

    /// <param name="customize">Lets tests and the benchmark add logging providers or extra endpoints before the host is built.</param>
    /// <param name="replaceServices">Runs after every registration, so tests and the benchmark can put their own in place of one (e.g. a recording IRefreshRequester).</param>
    public static WebApplication Build(ServeSettings settings, Action<WebApplicationBuilder>? customize = null, Action<WebApplication>? mapExtra = null,
        Action<IServiceCollection>? replaceServices = null)
    {
        var addresses = ListenAddress.ParseAll(settings.Urls);
        var metricsAddresses = ListenAddress.ParseMetrics(settings.MetricsUrls);
        var clientCertificates = ClientCertificates.Load(settings.ClientCaFile, settings.ReportClientCaFile, settings.WorkingDirectory);
        if (settings.ClientSubjects.Count > 0 && !clientCertificates.GuardsAdmission)
            throw new ConfigException("--client-subject needs --client-ca (the CA bundle that signs the API server's client certificate)");
        var admissionCallers = new AdmissionCallers(clientCertificates, settings.ClientSubjects.ToHashSet(StringComparer.Ordinal));
        var config = ConfigFileReader.Load(settings.ConfigFile, settings.WorkingDirectory);
        if (settings.AdmissionTimeout is { } admissionTimeout)
            config = config with { AdmissionTimeout = admissionTimeout };
        // The sync worker's section is its own to read; read now, so a mistake stops serve before it listens.
        var sync = SyncSettings.Read(config.SyncSection);
        var reportAccess = settings.ReportAccess is null ? null : Report.ReportAccess.Parse(settings.ReportAccess);
        if (reportAccess is { Subjects.Count: > 0 } && !clientCertificates.HasReportAuthority)
            throw new ConfigException("--report-access subject:… needs --report-client-ca (the CA bundle that signs the readers' certificates)");
        var refreshAccess = settings.RefreshAccess is null ? null : Report.RefreshAccess.Parse(settings.RefreshAccess, settings.WorkingDirectory);
        if (refreshAccess is { People.Subjects.Count: > 0 } && !clientCertificates.HasReportAuthority)
            throw new ConfigException("--refresh-access subject:… needs --report-client-ca (the CA bundle that signs the callers' certificates)");
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            EnvironmentName = Environments.Production,
            ContentRootPath = settings.WorkingDirectory,
            ApplicationName = "configinjector",
            // No appsettings.json is read for anything, yet by default one is watched in the content root (the working
            // directory): every write there, a log file included, woke a file watcher (seen in the process bench's profile).
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
        });
        if (settings.LogFormat == "json")
        {
            builder.Logging.AddJsonConsole(o =>
            {
                o.IncludeScopes = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            });
            // The built-in JSON fields plus trace_id and span_id (JsonLogFormatter), with the options set above.
            builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Logging.Console.ConsoleFormatter, JsonLogFormatter>());
            builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.FormatterName = JsonLogFormatter.FormatterName);
        }
        else
        {
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        }
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        customize?.Invoke(builder);
        TracingSetup.AddTracing(builder);

        builder.Services.AddSingleton(settings.Time);
        builder.Services.AddSingleton(new GracefulShutdown(settings.ShutdownDelay, settings.Time));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<GracefulShutdown>());
        // Draining in-flight admissions after the delay may take up to the longest admission.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = settings.ShutdownDelay + config.AdmissionTimeout + TimeSpan.FromSeconds(5));
        builder.Services.AddSingleton(config);
        builder.Services.AddSingleton(clientCertificates);
        builder.Services.AddSingleton(new InjectorMetrics(Metrics.NewCustomRegistry()));
        builder.Services.AddSingleton(sp => CreateCertificateSource(settings, sp));
        builder.Services.AddSecretBackends(config);
        AddClusterOrInProcess(builder.Services, settings, sync, config);
        if (reportAccess is not null)
            builder.Services.AddSingleton(sp => ActivatorUtilities.CreateInstance<Report.ReportEndpoint>(sp, reportAccess));
        builder.Services.AddSingleton(sp => new RefreshMetrics(sp.GetRequiredService<InjectorMetrics>().Registry));
        if (refreshAccess is not null)
            builder.Services.AddSingleton(sp => ActivatorUtilities.CreateInstance<Report.RefreshEndpoint>(sp, refreshAccess));
        builder.Services.AddAdmission(config);
        builder.Services.AddHostedService(sp => sp.GetRequiredService<AdmissionWarmup>());
        if (Environment.GetEnvironmentVariable("CONFIGINJECTOR_IDLE_TRIM") != "off")
            builder.Services.AddHostedService(sp => ActivatorUtilities.CreateInstance<IdleMemoryTrim>(sp));

        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = config.MaxRequestBytes;
            foreach (var address in addresses)
            {
                kestrel.Listen(address.Address, address.Port, listen => listen.UseHttps(https =>
                {
                    var certificates = kestrel.ApplicationServices.GetRequiredService<CertificateSource>();
                    https.ServerCertificateSelector = (_, _) => certificates.Current;
                    clientCertificates.Configure(https);
                }));
            }
            // Metrics alone, for scrapers a NetworkPolicy lets in apart from the API server; no client certificate asked.
            foreach (var address in metricsAddresses)
            {
                kestrel.Listen(address.Address, address.Port, listen =>
                {
                    MetricsListener.MarkConnections(listen);
                    if (address.Https)
                        listen.UseHttps(https => https.ServerCertificateSelector = (_, _) => kestrel.ApplicationServices.GetRequiredService<CertificateSource>().Current);
                });
            }
        });

        replaceServices?.Invoke(builder.Services);
        var app = builder.Build();
        if (clientCertificates.GuardsAdmission && settings.ClientSubjects.Count == 0)
            LogAnyClientOfTheCa(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("ConfigInjector"));
        LogCluster(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("ConfigInjector"), app.Services.GetRequiredService<ClusterDescription>().Text);
        // Resolve the backends and policies now, so a bad config fails the start instead of the first admission.
        app.Services.GetRequiredService<IReadOnlyDictionary<string, ISecretBackend>>();
        app.Services.GetRequiredService<IPolicySource>();
        var serving = app.Services.GetRequiredService<CertificateSource>();

        var metrics = app.Services.GetRequiredService<InjectorMetrics>();
        metrics.WatchCertificate(() => serving.Current is { } current ? new DateTimeOffset(current.NotAfter) : null);
        var registry = metrics.Registry;
        MetricsListener.Serve(app, registry);
        app.UseRouting();
        app.MapPost(AdmissionEndpoint.Path, (HttpContext context, AdmissionEndpoint endpoint) =>
            admissionCallers.Refusal(context) is { } refusal
                ? AdmissionCallers.RefuseAsync(context, refusal)
                : endpoint.HandleAsync(context));
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", (CertificateSource certificates, IPolicySource policies, GracefulShutdown shutdown, AdmissionWarmup warmup) =>
            shutdown.Stopping ? Results.Text("not ready: shutting down\n", statusCode: 503)
            : !warmup.Done ? Results.Text("not ready: warming up the admission path\n", statusCode: 503)
            : certificates.Current is null ? Results.Text($"not ready: {certificates.Problem}\n", statusCode: 503)
            : !policies.Ready ? Results.Text("not ready: SecretPolicies not read yet\n", statusCode: 503)
            : Results.Text("ok\n"));
        app.MapMetrics(MetricsListener.Path, registry);
        // Off unless --report-access names who may see it.
        if (reportAccess is not null)
            app.MapGet(Report.ReportEndpoint.Path, (HttpContext context, Report.ReportEndpoint endpoint) => endpoint.HandleAsync(context));
        // Off unless --refresh-access names who may call it.
        if (refreshAccess is not null)
        {
            app.MapPost(Report.RefreshEndpoint.Path, (HttpContext context, Report.RefreshEndpoint endpoint) => endpoint.PostAsync(context));
            app.MapMethods(Report.RefreshEndpoint.Path, ["OPTIONS"], (HttpContext context, Report.RefreshEndpoint endpoint) => endpoint.OptionsAsync(context));
        }
        mapExtra?.Invoke(app);
        return app;
    }

    /// <summary>With a cluster: managed Secrets through the API, namespace labels, and the leader-elected sync worker. Without: the in-process store.</summary>
    private static void AddClusterOrInProcess(IServiceCollection services, ServeSettings settings, SyncSettings sync, InjectorConfig config)
    {
        var (client, description) = KubernetesConnection.Create(settings.Kubeconfig);
        services.AddSingleton(new ClusterDescription(description));
        var policiesFromFolder = client is null || settings.PoliciesFolder is not null;
        if (policiesFromFolder)
        {
            services.AddSingleton<IPolicySource>(sp => new FolderPolicySource(
                PolicyFolder.Resolve(settings.PoliciesFolder, settings.WorkingDirectory), settings.Time, sp.GetRequiredService<ILogger<FolderPolicySource>>()));
        }
        if (client is null)
        {
            services.AddInProcessCluster(settings.WorkingDirectory);
            return;
        }
        var lease = settings.LeaseIdentity ?? LeaseIdentity.FromEnvironment();
        var names = ReleaseNames.For(settings.Release);
        if (settings.KubernetesTimings is { } timings)
            services.AddSingleton(timings);
        services.AddKubernetes(client, lease.Namespace, lease.Identity, names.SigningKey, policiesAsResources: !policiesFromFolder);
        services.AddSingleton<Report.ITokenReviewer>(new KubernetesTokenReviewer(client));
        services.AddSingleton(sp => new Report.ReportService(new KubernetesReportCluster(client, lease.Namespace), sp.GetRequiredService<SecretReader>(),
            config.Backends.Select(b => b.Name).ToHashSet(StringComparer.Ordinal), sp.GetRequiredService<ISigningKey>(), settings.Time));
        services.AddSyncWorker(sync, lease, names.Lease);
    }

    private static CertificateSource CreateCertificateSource(ServeSettings settings, IServiceProvider services)
    {
        var log = services.GetRequiredService<ILogger<CertificateSource>>();
        if (settings.CertFile is null && settings.KeyFile is null)
        {
            var folder = Path.Combine(settings.WorkingDirectory, DevCertificate.Folder);
            if (DevCertificate.EnsureExists(folder, settings.Time))
                LogDevCertificateCreated(log, folder);
            return new CertificateSource(Path.Combine(folder, "tls.crt"), Path.Combine(folder, "tls.key"), settings.Time, log);
        }
        if (settings.CertFile is null || settings.KeyFile is null)
            throw new ConfigException("--tls-cert and --tls-key go together");
        return new CertificateSource(
            Path.GetFullPath(settings.CertFile, settings.WorkingDirectory), Path.GetFullPath(settings.KeyFile, settings.WorkingDirectory), settings.Time, log);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "--client-ca without --client-subject: any certificate that CA issued may POST /mutate-pods; name the API server's certificate with --client-subject")]
    private static partial void LogAnyClientOfTheCa(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Kubernetes: {Cluster}")]
    private static partial void LogCluster(ILogger logger, string cluster);

    [LoggerMessage(Level = LogLevel.Information, Message = "created a self-signed dev certificate in {Folder} (trust its ca.crt)")]
    private static partial void LogDevCertificateCreated(ILogger logger, string folder);
}
