using System.Diagnostics;
using System.Text;
using ConfigInjector.Observability;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Builders;
using ConfigInjector.TestSupport.Fakes;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace ConfigInjector.Tests.Observability;

/// <summary>
/// Admission through the real endpoint with tracing on (an OTLP endpoint configured): the webhook's spans join the
/// API server's trace from its <c>traceparent</c>, with a child per backend read and managed-Secret write, and no
/// span carries a secret value anywhere.
/// </summary>
public sealed class AdmissionTraceTests : IAsyncLifetime, IDisposable
{
    private readonly SpanRecorder _spans = new();
    private OtlpReceiverFake _collector = null!;
    private WebhookServer _server = null!;

    public async Task InitializeAsync()
    {
        _collector = await OtlpReceiverFake.StartAsync();
        _server = await WebhookServer.StartAsync(
            configure: b =>
            {
                b.Configuration[ConfigInjector.Hosting.TracingSetup.Endpoint] = _collector.Address.ToString();
                b.Configuration["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
            },
            services: s => s.ConfigureOpenTelemetryTracerProvider(t => t.AddProcessor(_spans)));
    }

    public void Dispose() => _spans.Dispose();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _collector.DisposeAsync();
    }

    [Fact]
    public async Task The_admission_span_sits_in_the_api_servers_trace_with_a_read_and_a_write_under_it()
    {
        var (traceId, callerSpan) = (ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom());

        var review = await PostWithTraceparentAsync(PodBuilder.Injected("traced").WithAnnotation("configinjector.io/secret.DB_PASSWORD", "dev:app/db#password"), traceId, callerSpan);

        Assert.True(review.Allowed, review.Message);
        var spans = await _spans.WaitForAsync(traceId, Tracing.Admission, Tracing.BackendRead, Tracing.SecretWrite, "POST /mutate-pods");
        var http = spans.Single(s => s.Source.Name == "Microsoft.AspNetCore");
        Assert.Equal(callerSpan, http.ParentSpanId);
        var admission = spans.Single(s => s.OperationName == Tracing.Admission);
        Assert.Equal(http.SpanId, admission.ParentSpanId);
        Assert.Equal(("default", "traced", "injected", "allowed"),
            ((string?)admission.GetTagItem(Tracing.Namespace), (string?)admission.GetTagItem(Tracing.Pod), (string?)admission.GetTagItem(Tracing.Result), (string?)admission.GetTagItem(Tracing.Decision)));
        Assert.Equal(["dev:app/db#password"], (string[])admission.GetTagItem(Tracing.Refs)!);
        var read = spans.Single(s => s.OperationName == Tracing.BackendRead);
        Assert.Equal(admission.SpanId, read.ParentSpanId);
        Assert.Equal(("dev:app/db", "found"), ((string?)read.GetTagItem(Tracing.Location), (string?)read.GetTagItem(Tracing.Result)));
        Assert.Matches("^h[0-9a-f]{16}$", (string?)read.GetTagItem(Tracing.Version));
        var write = spans.Single(s => s.OperationName == Tracing.SecretWrite);
        Assert.Equal(admission.SpanId, write.ParentSpanId);
        Assert.Equal(_server.Secrets.Secrets.Single().Metadata.Name, write.GetTagItem(Tracing.SecretName));

        // The same spans reach the collector over OTLP/HTTP, in the API server's trace.
        var exported = await _collector.WaitForAsync(traceId.ToHexString(), [Tracing.Admission, Tracing.BackendRead, Tracing.SecretWrite], TimeSpan.FromSeconds(20));
        Assert.Contains(exported, s => s.Name == Tracing.Admission && s.SpanId == admission.SpanId.ToHexString() && s.ParentSpanId == http.SpanId.ToHexString());
        Assert.Contains(exported, s => s.Name == Tracing.SecretWrite && s.ParentSpanId == admission.SpanId.ToHexString());
    }

    [Fact]
    public async Task No_span_attribute_event_or_status_carries_a_secret_value()
    {
        var pods = new[]
        {
            PodBuilder.Injected("leak-1").WithAnnotation("configinjector.io/secret.P", "dev:app/db#password").WithAnnotation("configinjector.io/file.t", "dev:app/api#token"),
            PodBuilder.Injected("leak-2").WithAnnotation("configinjector.io/secrets-from", "dev:app/db"),
            PodBuilder.Injected("leak-3").WithAnnotation("configinjector.io/config.L", "dev:shared/sentry#dsn"),
            PodBuilder.Injected("leak-4").WithAnnotation("configinjector.io/secret.P", "dev:app/db#nokey"),
            PodBuilder.Injected("leak-5").WithAnnotation("configinjector.io/template.URL", "pg://${dev:app/db#user}:${dev:app/db#password | urlencode}@db/app"),
            PodBuilder.Injected("leak-6").WithAnnotation("configinjector.io/template.U", "${dev:app/db#password | nope}"),
        };
        var traces = new List<ActivityTraceId>();
        foreach (var pod in pods)
        {
            traces.Add(ActivityTraceId.CreateRandom());
            await PostWithTraceparentAsync(pod, traces[^1], ActivitySpanId.CreateRandom());
        }
        foreach (var trace in traces)
            await _spans.WaitForAsync(trace, Tracing.Admission, "POST /mutate-pods");

        var spans = traces.SelectMany(_spans.InTrace).ToList();
        Assert.Contains(spans, s => s.OperationName == Tracing.BackendRead);
        Assert.Contains(spans, s => s.GetTagItem(Tracing.Decision) as string == "denied");
        var text = new StringBuilder();
        foreach (var span in spans)
        {
            text.AppendLine(span.DisplayName).AppendLine(span.StatusDescription);
            foreach (var (key, value) in span.TagObjects)
                text.Append(key).Append('=').AppendLine(value is string[] list ? string.Join(",", list) : Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture));
            foreach (var e in span.Events)
                text.AppendLine(e.Name).AppendJoin(",", e.Tags.Select(t => $"{t.Key}={t.Value}")).AppendLine();
        }
        var everything = text.ToString();
        Assert.Contains("dev:app/db#password", everything, StringComparison.Ordinal);
        foreach (var value in DevSecrets.Values())
        {
            foreach (var form in new[] { value, Uri.EscapeDataString(value), Convert.ToBase64String(Encoding.UTF8.GetBytes(value)) })
                Assert.DoesNotContain(form, everything, StringComparison.Ordinal);
        }
    }

    private async Task<ReviewResult> PostWithTraceparentAsync(PodBuilder pod, ActivityTraceId traceId, ActivitySpanId parent)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/mutate-pods")
        {
            Content = new StringContent(AdmissionReviewBuilder.ForPod(pod), Encoding.UTF8, "application/json"),
        };
        // What the API server sends when its tracing is on (W3C Trace Context, sampled).
        request.Headers.Add("traceparent", $"00-{traceId.ToHexString()}-{parent.ToHexString()}-01");
        using var response = await _server.Client.SendAsync(request);
        return ReviewResult.Parse(response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
