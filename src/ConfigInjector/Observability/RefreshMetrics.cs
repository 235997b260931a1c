using Prometheus;

namespace ConfigInjector.Observability;

/// <summary>
/// "Refresh now" requests by trigger (<c>refresh-endpoint</c>, <c>event-grid</c>, <c>cloudevents</c>, <c>vault-events</c>)
/// and result, and the refs they named: matched by some managed Secret, or unknown (ignored, but counted here).
/// </summary>
internal sealed class RefreshMetrics(CollectorRegistry registry)
{
    private readonly Counter _requests = Metrics.WithCustomRegistry(registry).CreateCounter("configinjector_refresh_requests_total",
        "Refresh-now requests by trigger and result (refreshed, nothing_matched, handshake, refused, throttled, invalid, failed).", "trigger", "result");

    private readonly Counter _refs = Metrics.WithCustomRegistry(registry).CreateCounter("configinjector_refresh_refs_total",
        "Ref patterns named by refresh-now requests, by trigger and result (matched, unknown).", "trigger", "result");

    public void Request(string trigger, string result) => _requests.WithLabels(trigger, result).Inc();

    public void Refs(string trigger, int matched, int unknown)
    {
        _refs.WithLabels(trigger, "matched").Inc(matched);
        _refs.WithLabels(trigger, "unknown").Inc(unknown);
    }
}
