using ConfigInjector.Configuration;

namespace ConfigInjector.Sync;

/// <summary>The sync worker's <c>sync:</c> section of the config file (DESIGN.md §5 and §8).</summary>
public sealed record SyncSettings(
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
            node.Duration("retryPeriod", Default.RetryPeriod));
        if (settings.RenewDeadline >= settings.LeaseDuration || settings.RetryPeriod >= settings.RenewDeadline)
            throw node.ErrorAt("renewDeadline", "leader election needs retryPeriod < renewDeadline < leaseDuration");
        node.RejectUnknown();
        return settings;
    }
}
