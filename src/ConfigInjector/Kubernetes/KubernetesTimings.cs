namespace ConfigInjector.Kubernetes;

/// <summary>How often the Kubernetes adapter looks again at what it caches. Not in the config file: the defaults fit every cluster; tests shorten them.</summary>
internal sealed record KubernetesTimings
{
    public static readonly KubernetesTimings Default = new();

    /// <summary>How long a namespace's opt-in label is trusted before it is read again.</summary>
    public TimeSpan NamespaceLabelTtl { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>After a failed namespace read the last answer is kept; the read is tried again after this long.</summary>
    public TimeSpan NamespaceRetryAfterFailure { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The signing key is read again this often (another replica may have rotated it).</summary>
    public TimeSpan SigningKeyRereadEvery { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>A forced re-read of the signing key (a signature did not verify) happens at most this often.</summary>
    public TimeSpan SigningKeyRereadAtMostEvery { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A Secret this replica has just written for the same owner is not written again within this window.</summary>
    public TimeSpan RecentlyApplied { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>How often changed policy objects are rebuilt without an admission asking (so invalid ones are reported promptly).</summary>
    public TimeSpan PolicyRebuildTick { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The same admission Event seen again within this long of its last sighting counts onto the Event already written.</summary>
    public TimeSpan EventRepeatWindow { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How often repeats are written as the Event's count (one patch per Event at most this often, however many repeats).</summary>
    public TimeSpan EventCountEvery { get; init; } = TimeSpan.FromSeconds(30);
}
