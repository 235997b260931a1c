using Prometheus;

namespace ConfigInjector.Observability;

/// <summary>The Prometheus metrics of DESIGN.md §6, on a registry of their own so each host (and test) has its own.</summary>
internal sealed class InjectorMetrics
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
        Rotations = factory.CreateCounter("configinjector_rotations_total", "Managed Secret re-resolutions by result (updated, unchanged, error).", "result");
        Restarts = factory.CreateCounter("configinjector_restarts_total", "Workload rollout restarts by namespace, kind and result (started, finished, failed, timed_out, not_possible).", "namespace", "kind", "result");
        MissedInjections = factory.CreateCounter("configinjector_missed_injections_total", "Opted-in pods found running without injection.");
        MissedInjectionsNow = factory.CreateGauge("configinjector_missed_injections", "Opted-in pods without injection at the last scan.");
        ManagedSecrets = factory.CreateGauge("configinjector_managed_secrets", "Managed Secrets the sync worker knows while it leads (0 on the other replicas).");
        PodsOnStaleVersion = factory.CreateGauge("configinjector_pods_on_stale_version", "Running pods holding an older version of a ref than their managed Secret (env values wait for a restart), at the last scan.", "namespace");
        EventWritesDropped = factory.CreateCounter("configinjector_event_writes_dropped_total", "Admission Event writes refused because the write queue (or the namespace's share of it) was full.");
        Leases = factory.CreateGauge("configinjector_leases", "Dynamic-credential leases the lease keeper holds while it leads, by backend and state (active, expired, revoke_pending), at its last pass.", "backend", "state");
        Leader = factory.CreateGauge("configinjector_sync_leader", "1 while this replica holds the sync worker's lease.");
        CertificateExpiry = factory.CreateGauge("configinjector_certificate_expiry_timestamp_seconds", "Unix time at which the serving certificate expires (0 while none is loaded).");
    }

    // The results are a handful of words: each labelled child is looked up once, not on every admission.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Counter.Child> _admissionResults = new(StringComparer.Ordinal);

    public CollectorRegistry Registry { get; }
    public Counter AdmissionRequests { get; }
    public Histogram AdmissionDuration { get; }
    public Counter BackendRequests { get; }
    public Histogram BackendDuration { get; }
    public Counter PolicyDenials { get; }
    public Counter CacheHits { get; }
    public Counter CacheMisses { get; }
    public Counter Rotations { get; }
    public Counter Restarts { get; }
    public Counter MissedInjections { get; }
    public Gauge MissedInjectionsNow { get; }
    public Gauge ManagedSecrets { get; }

    /// <summary>By namespace: pods holding an older version of a ref than their managed Secret.</summary>
    public Gauge PodsOnStaleVersion { get; }
    public Gauge Leader { get; }

    /// <summary>By backend and state (<c>active</c>, <c>expired</c>, <c>revoke_pending</c>); never a lease id in a label.</summary>
    public Gauge Leases { get; }
    public Gauge CertificateExpiry { get; }

    /// <summary>A refused count update is tried again at the next count write while the Event is remembered.</summary>
    public Counter EventWritesDropped { get; }

    /// <summary>Reads the certificate's expiry at each scrape, so a certificate re-read from its files shows at once.</summary>
    public void WatchCertificate(Func<DateTimeOffset?> notAfter) =>
        Registry.AddBeforeCollectCallback(() => CertificateExpiry.Set(notAfter()?.ToUnixTimeSeconds() ?? 0));

    public void CountAdmission(string result) => _admissionResults.GetOrAdd(result, r => AdmissionRequests.WithLabels(r)).Inc();

    /// <summary>What only the leader measures: a replica that stops leading must not keep exporting its last values.</summary>
    public void ClearLeaderGauges()
    {
        // A follower keeps no managed Secret: summed over replicas, the count is the leader's alone.
        ManagedSecrets.Set(0);
        MissedInjectionsNow.Set(0);
        foreach (var labels in PodsOnStaleVersion.GetAllLabelValues().ToList())
            PodsOnStaleVersion.RemoveLabelled(labels);
        SetLeases(new Dictionary<(string Backend, string State), int>());
    }

    /// <summary>The lease counts of one pass: a backend and state seen before and absent now shows 0.</summary>
    public void SetLeases(IReadOnlyDictionary<(string Backend, string State), int> counts)
    {
        foreach (var labels in Leases.GetAllLabelValues().ToList())
            Leases.WithLabels(labels).Set(counts.GetValueOrDefault((labels[0], labels[1])));
        foreach (var ((backend, state), count) in counts)
            Leases.WithLabels(backend, state).Set(count);
    }
}
