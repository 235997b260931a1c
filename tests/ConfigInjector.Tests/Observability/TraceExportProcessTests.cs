using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using ConfigInjector.Observability;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Builders;
using ConfigInjector.TestSupport.Fakes;

namespace ConfigInjector.Tests.Observability;

/// <summary>
/// <c>serve</c> as the container runs it, configured by the standard <c>OTEL_*</c> variables only: with an endpoint
/// its spans reach a collector over OTLP/HTTP in the caller's trace; without one nothing is exported. Either way
/// its JSON log lines name the trace and span they were written in.
/// </summary>
public class TraceExportProcessTests
{
    [Theory]
    [InlineData("http/protobuf")]
    [InlineData("grpc")]
    public async Task With_an_endpoint_spans_reach_the_collector_in_the_callers_trace_and_log_lines_carry_its_id(string protocol)
    {
        await using var collector = await OtlpReceiverFake.StartAsync(grpc: protocol == "grpc");
        await using var serve = await ServeProcess.StartAsync(["--log-format", "json"], new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Address.ToString(),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = protocol,
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        });
        var traceId = ActivityTraceId.CreateRandom().ToHexString();

        await AdmitAsync(serve, traceId);

        var spans = await collector.WaitForAsync(traceId, [Tracing.Admission, Tracing.BackendRead, Tracing.SecretWrite, "POST /mutate-pods"], TimeSpan.FromSeconds(20));
        Assert.Equal(["POST /mutate-pods", Tracing.Admission, Tracing.BackendRead, Tracing.SecretWrite], spans.Select(s => s.Name).Order(StringComparer.Ordinal));
        var admission = spans.Single(s => s.Name == Tracing.Admission);
        Assert.Equal(admission.SpanId, AuditLine(serve).GetProperty("span_id").GetString());
        Assert.Equal(traceId, AuditLine(serve).GetProperty("trace_id").GetString());
    }

    [Fact]
    public async Task Without_an_endpoint_nothing_is_exported_and_log_lines_still_carry_the_callers_trace_id()
    {
        // Where the SDK would send by default (http/protobuf at localhost:4318) if tracing were on without an endpoint.
        await using var collector = await OtlpReceiverFake.StartAsync(4318);
        await using var serve = await ServeProcess.StartAsync(["--log-format", "json"], new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_SERVICE_NAME"] = "configinjector-test",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        });
        var traceId = ActivityTraceId.CreateRandom().ToHexString();

        await AdmitAsync(serve, traceId);
        await serve.StopAsync();

        Assert.Equal(0, serve.ExitCode);
        Assert.Equal(0, collector.Requests);
        Assert.Equal(traceId, AuditLine(serve).GetProperty("trace_id").GetString());
    }

    private static async Task AdmitAsync(ServeProcess serve, string traceId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/mutate-pods")
        {
            Content = new StringContent(AdmissionReviewBuilder.ForPod(PodBuilder.Injected("exported").WithAnnotation("configinjector.io/secret.DB_PASSWORD", "dev:app/db#password")), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        using var response = await serve.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await Eventually.TrueAsync(() => serve.Lines.Any(l => l.Contains("ConfigInjector.Audit", StringComparison.Ordinal)), "the audit line");
    }

    private static JsonElement AuditLine(ServeProcess serve) =>
        JsonDocument.Parse(serve.Lines.Single(l => l.Contains("ConfigInjector.Audit", StringComparison.Ordinal))).RootElement;
}
