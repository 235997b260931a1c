namespace ConfigInjector.Sync;

/// <summary>
/// Work that only the sync worker's leader does, beside its own passes (e.g. the policies' status): started when the
/// Lease is won, its token cancelled the moment the Lease is lost, so no write follows. Adapters register one as a
/// singleton; the worker runs every one registered.
/// </summary>
internal interface ILeaderTask
{
    /// <summary>A name for the log when the task fails.</summary>
    string Name { get; }

    /// <summary>Runs until <paramref name="leading"/> is cancelled.</summary>
    Task RunAsync(CancellationToken leading);
}
