using ConfigInjector.Configuration;

namespace ConfigInjector.Sync;

/// <summary>The sync worker's <c>sync:</c> section of the config file (DESIGN.md §5 and §8).</summary>
internal sealed record SyncSettings(
    int MaxConcurrentRestarts,
    int BackendReadsPerSecond,
    TimeSpan Tick,
    TimeSpan MissedInjectionScanInterval,
    TimeSpan AdoptionGracePeriod,
    TimeSpan RestartTimeout,
    TimeSpan LeaseDuration,
    TimeSpan RenewDeadline,
    TimeSpan RetryPeriod)
{
    public static readonly SyncSettings Default = new(5, 50, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(10),
        TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(2));

    // Below, not in the config file unless said (the defaults fit every cluster), but named here so tests and the bench can shorten them.

    /// <summary>A Secret whose refresh failed is tried again after this, doubling up to its interval.</summary>
    public TimeSpan RetryAfterFailure { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>At most this many Secrets are reconciled per tick (the longest waiting first), so a tick stays short and a lost lease is noticed soon.</summary>
    public int MaxSecretsPerTick { get; init; } = 1000;

    /// <summary>Refresh requests (the refresh annotation) that arrive within this of the first are served by one pass: one read per ref. <c>sync.refreshBatchWindow</c>.</summary>
    public TimeSpan RefreshBatchWindow { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>A Secret the injector did not sign is looked at again only this rarely: nobody may steer how often.</summary>
    public TimeSpan UnverifiedRequeue { get; init; } = TimeSpan.FromHours(1);

    /// <summary>A Secret printed by <c>inject</c> (manual lifecycle) is no rotation work: looked at again this rarely.</summary>
    public TimeSpan ManualLifecycleRequeue { get; init; } = TimeSpan.FromHours(1);

    /// <summary>How long the Secrets of a pass that failed as a whole (an API or backend outage) wait, and orphan collection and the missed-injection scan with them.</summary>
    public TimeSpan FailedPassHold { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A watch silent this long (no event, no bookmark) is opened again.</summary>
    public TimeSpan WatchSilenceLimit { get; init; } = Informer<k8s.Models.V1Secret>.DefaultSilenceLimit;

    /// <summary>Cache invalidation waits this long between attempts to read the signing key.</summary>
    public TimeSpan SigningKeyWait { get; init; } = TimeSpan.FromSeconds(5);

    public static SyncSettings Read(ConfigNode? node)
    {
        if (node is null)
            return Default;
        var settings = new SyncSettings(
            (int)node.Long("maxConcurrentRestarts", Default.MaxConcurrentRestarts, 1, 1000),
            (int)node.Long("backendReadsPerSecond", Default.BackendReadsPerSecond, 1, 100_000),
            node.Duration("tick", Default.Tick),
            node.Duration("missedInjectionScanInterval", Default.MissedInjectionScanInterval),
            node.Duration("adoptionGracePeriod", Default.AdoptionGracePeriod),
            node.Duration("restartTimeout", Default.RestartTimeout),
            node.Duration("leaseDuration", Default.LeaseDuration),
            node.Duration("renewDeadline", Default.RenewDeadline),
            node.Duration("retryPeriod", Default.RetryPeriod))
        {
            RefreshBatchWindow = node.Duration("refreshBatchWindow", Default.RefreshBatchWindow),
        };
        if (settings.RefreshBatchWindow < TimeSpan.FromSeconds(1) || settings.RefreshBatchWindow > TimeSpan.FromMinutes(5))
            throw node.ErrorAt("refreshBatchWindow", "must be between 1s and 5m: refresh requests within it of the first are served by one read per ref");
        if (settings.RenewDeadline >= settings.LeaseDuration || settings.RetryPeriod >= settings.RenewDeadline)
            throw node.ErrorAt("renewDeadline", "leader election needs retryPeriod < renewDeadline < leaseDuration");
        node.RejectUnknown();
        return settings;
    }
}
