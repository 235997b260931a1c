using System.Collections.Concurrent;
using System.Diagnostics;
using OpenTelemetry;

namespace ConfigInjector.TestSupport;

/// <summary>
/// A span processor that keeps every span as it ends, for tests that look at the tree and the attributes the
/// OpenTelemetry SDK would export. Spans of tests running beside are kept too: pick by trace id.
/// </summary>
public sealed class SpanRecorder : BaseProcessor<Activity>
{
    private readonly ConcurrentQueue<Activity> _ended = new();

    public IReadOnlyList<Activity> Ended => [.. _ended];

    public IReadOnlyList<Activity> InTrace(ActivityTraceId traceId) => [.. _ended.Where(a => a.TraceId == traceId)];

    public override void OnEnd(Activity data) => _ended.Enqueue(data);

    /// <summary>Waits until spans named <paramref name="names"/> of <paramref name="traceId"/> have ended (the HTTP span ends after the answer is sent).</summary>
    public async Task<IReadOnlyList<Activity>> WaitForAsync(ActivityTraceId traceId, params string[] names)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var spans = InTrace(traceId);
            if (names.All(n => spans.Any(s => s.OperationName == n || s.DisplayName == n)) || DateTime.UtcNow > until)
                return spans;
            await Task.Delay(20);
        }
    }
}
