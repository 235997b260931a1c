using ConfigInjector.Backends;
using ConfigInjector.Core.Planning;
using ConfigInjector.Core.References;
using ConfigInjector.ManagedSecrets;

namespace ConfigInjector.Sync;

/// <summary>
/// Keeps every replica's admission cache in step with rotations made by the leader: when a managed Secret records
/// a version of a ref other than the one this replica has cached, the entry is marked stale and the next admission
/// reads the backend. Without it, pods that a rotation restarts could get new Secrets filled with the old value
/// from another replica's cache, and be restarted again one interval later. Only versions the signature covers count
/// (a tenant may edit their own Secret's annotations), and a stale entry stays the last-known-good until a read
/// replaces it: no Secret can empty the value other pods fall back on when the backend is down.
/// </summary>
internal sealed partial class CacheInvalidator(ManagedSecretWatch watch, SecretCache cache, ISigningKey signingKey, SyncSettings settings, TimeProvider time, ILogger<CacheInvalidator> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Every replica runs this, as a listener of the process's one informer over managed Secrets.
        var informer = watch.Informer;
        var keys = await signingKey.UntilKnownAsync(settings.SigningKeyWait, time, reason => LogNoKey(log, reason), stoppingToken);
        if (keys is null)
            return;
        informer.Changed += (type, secret) =>
        {
            // Keys are re-read now and then (they can be rotated); an event never waits for that read.
            var latest = signingKey.GetAsync(stoppingToken);
            if (latest.IsCompletedSuccessfully)
                keys = latest.Result;
            // Only what the injector itself wrote may steer the cache: a forged Secret could otherwise keep it cold.
            if (type == WatchEventType.Deleted || ManagedSecretFactory.ReadSources(secret) is not { } sources ||
                !ManagedSecretSignature.CoversVersions(ManagedSecretSignature.Verify(keys, secret, sources)))
                return;
            foreach (var source in sources.Values)
            {
                var parsed = ReferenceParser.Parse(source.Ref);
                if (parsed.IsOk && cache.MarkStaleIfNot(parsed.Value!.Location, source.Version, ReadIdentity.Of(secret)))
                    LogMarkedStale(log, parsed.Value.Location.ToString(), source.Version);
            }
        };
        try
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, time, stoppingToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "cache entry {Location} due for a read (kept as last-known-good): a managed Secret records version {Version}")]
    private static partial void LogMarkedStale(ILogger logger, string location, string version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "cache invalidation waits for the signing key: {Reason}")]
    private static partial void LogNoKey(ILogger logger, string reason);
}
