using Prometheus;

namespace ConfigInjector.Observability;

/// <summary>The Prometheus metrics of DESIGN.md §6, on a registry of their own so each host (and test) has its own.</summary>
public sealed class InjectorMetrics
{
    public InjectorMetrics(CollectorRegistry registry)
    {
        Registry = registry;
        var factory = Metrics.WithCustomRegistry(registry);
        AdmissionRequests = factory.CreateCounter("configinjector_admission_requests_total", "Admission requests by result.", "result");
        AdmissionDuration = factory.CreateHistogram("configinjector_admission_duration_seconds", "Time to answer an admission request.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.0005, 2, 14) });
        BackendRequests = factory.CreateCounter("configinjector_backend_requests_total", "Backend reads by backend and result.", "backend", "result");
        BackendDuration = factory.CreateHistogram("configinjector_backend_duration_seconds", "Backend read latency.",
            new HistogramConfiguration { LabelNames = ["backend"], Buckets = Histogram.ExponentialBuckets(0.0005, 2, 14) });
        PolicyDenials = factory.CreateCounter("configinjector_policy_denials_total", "Refs denied because no SecretPolicy allows them.");
        CacheHits = factory.CreateCounter("configinjector_cache_hits_total", "Secret reads answered from the cache.");
        CacheMisses = factory.CreateCounter("configinjector_cache_misses_total", "Secret reads that went to a backend (coalesced callers count once).");
    }

    public CollectorRegistry Registry { get; }
    public Counter AdmissionRequests { get; }
    public Histogram AdmissionDuration { get; }
    public Counter BackendRequests { get; }
    public Histogram BackendDuration { get; }
    public Counter PolicyDenials { get; }
    public Counter CacheHits { get; }
    public Counter CacheMisses { get; }
}
