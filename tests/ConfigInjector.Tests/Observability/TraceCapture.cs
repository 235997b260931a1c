using System.Diagnostics;
using ConfigInjector.Observability;
using ConfigInjector.TestSupport;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace ConfigInjector.Tests.Observability;

/// <summary>
/// An OpenTelemetry tracer provider over ConfigInjector's spans for work driven directly (no host): the work runs
/// under a root span of the test's own, and only that trace's spans come back, whatever other tests trace meanwhile.
/// </summary>
internal sealed class TraceCapture : IDisposable
{
    private static readonly ActivitySource Test = new("ConfigInjector.Tests.Traces");
    private readonly SpanRecorder _spans = new();
    private readonly TracerProvider _provider;

    public TraceCapture() => _provider = Sdk.CreateTracerProviderBuilder().AddSource(Tracing.SourceName, Test.Name).AddProcessor(_spans).Build()!;

    public async Task<IReadOnlyList<Activity>> RunAsync(Func<Task> work)
    {
        ActivityTraceId trace;
        using (var root = Test.StartActivity("test"))
        {
            trace = root!.TraceId;
            await work();
        }
        return _spans.InTrace(trace);
    }

    // The provider disposes its processors, the recorder included.
    public void Dispose() => _provider.Dispose();
}
