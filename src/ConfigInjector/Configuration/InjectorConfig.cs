namespace ConfigInjector.Configuration;

/// <summary>Whose identity a backend reads with (DESIGN.md §3): its own credential, or the pod's service account.</summary>
internal enum BackendIdentity { Webhook, Pod }

/// <summary>One entry of <c>backends:</c>; the type-specific fields stay in <see cref="Node"/> for the backend's factory.</summary>
internal sealed record BackendSettings(string Name, string Type, bool Sensitive, ConfigNode Node, string BaseDirectory)
{
    /// <summary><c>identity: webhook | pod</c>; the backend's factory decides whether it can read as a pod.</summary>
    public BackendIdentity Identity { get; init; } = BackendIdentity.Webhook;

    /// <summary>A path from the config file, resolved against the config file's folder as kubeconfig does.</summary>
    public string ResolvePath(string path) => System.IO.Path.GetFullPath(path, BaseDirectory);
}

/// <summary>
/// The validated <c>--config</c> file (DESIGN.md §3). Sections that belong to a part of the program are handed to
/// it unread (<see cref="SyncSection"/>): that part reads and validates them, with the same file:line:field errors.
/// </summary>
internal sealed record InjectorConfig(IReadOnlyList<BackendSettings> Backends, TimeSpan CacheTtl, long MaxRequestBytes, ConfigNode? SyncSection)
{
    public const long DefaultMaxRequestBytes = 3 * 1024 * 1024;

    /// <summary>The API server's default webhook timeout: no admission works longer than that, whatever it was sent.</summary>
    public static readonly TimeSpan DefaultAdmissionTimeout = TimeSpan.FromSeconds(10);

    /// <summary>One read of one backend, all attempts included, when the deadline leaves room for it.</summary>
    public static readonly TimeSpan LongestBackendRead = TimeSpan.FromSeconds(5);

    public TimeSpan AdmissionTimeout { get; init; } = DefaultAdmissionTimeout;

    /// <summary>
    /// A backend read gives up at three quarters of the admission deadline (at most <see cref="LongestBackendRead"/>),
    /// so a slow backend fails the read while there is still time to answer with <c>onBackendError: allow-stale</c> or
    /// <c>skip</c> instead of hitting the deadline.
    /// </summary>
    public TimeSpan BackendReadTimeout => AdmissionTimeout * 3 / 4 < LongestBackendRead ? AdmissionTimeout * 3 / 4 : LongestBackendRead;
}
