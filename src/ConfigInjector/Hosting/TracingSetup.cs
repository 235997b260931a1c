using ConfigInjector.Observability;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace ConfigInjector.Hosting;

/// <summary>
/// Traces over OTLP, configured by the standard <c>OTEL_*</c> variables (endpoint, protocol, headers, service name,
/// sampler: https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/) and off unless an
/// endpoint is set: then no tracer provider exists and <see cref="Tracing.Source"/> has no listener.
/// </summary>
internal static class TracingSetup
{
    public const string Endpoint = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string TracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
    public const string ServiceName = "configinjector";

    // Probes and scrapes every few seconds would bury the admissions.
    private static readonly HashSet<string> Untraced = new(["/healthz", "/readyz", MetricsListener.Path], StringComparer.Ordinal);

    public static bool Enabled(IConfiguration configuration) =>
        !string.Equals(configuration["OTEL_SDK_DISABLED"], "true", StringComparison.OrdinalIgnoreCase)
        && (!string.IsNullOrWhiteSpace(configuration[Endpoint]) || !string.IsNullOrWhiteSpace(configuration[TracesEndpoint]));

    /// <summary>
    /// The HTTP server span (its parent is the caller's <c>traceparent</c>: the API server's trace) and every
    /// ConfigInjector span under it, exported over OTLP.
    /// </summary>
    public static void AddTracing(WebApplicationBuilder builder)
    {
        if (!Enabled(builder.Configuration))
            return;
        var telemetry = builder.Services.AddOpenTelemetry();
        // OTEL_SERVICE_NAME (or service.name in OTEL_RESOURCE_ATTRIBUTES) wins over our default name.
        if (string.IsNullOrEmpty(builder.Configuration["OTEL_SERVICE_NAME"])
            && builder.Configuration["OTEL_RESOURCE_ATTRIBUTES"]?.Contains("service.name=", StringComparison.Ordinal) != true)
            telemetry.ConfigureResource(r => r.AddService(ServiceName, serviceVersion: Tracing.Source.Version));
        telemetry.WithTracing(tracing => tracing
            .AddSource(Tracing.SourceName)
            .AddAspNetCoreInstrumentation(o => o.Filter = context => !Untraced.Contains(context.Request.Path.Value ?? ""))
            .AddOtlpExporter());
    }
}
