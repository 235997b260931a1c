using ConfigInjector.Core.Planning;
using ConfigInjector.ManagedSecrets;
using k8s.Models;

namespace ConfigInjector.Sync;

/// <summary>
/// The one informer over managed Secrets in a process, shared by its listeners: every replica's cache invalidation
/// and, while it leads, the sync worker (one list and one watch per replica, not one per listener). Values are kept
/// only of Secrets the injector signed; a labelled Secret anyone else wrote is kept as metadata only, and until the
/// keys are known nothing is kept with values (the rotation pass reads such Secrets again).
/// </summary>
internal sealed class ManagedSecretWatch : BackgroundService
{
    private readonly ISigningKey _signingKey;
    private SigningKeys? _keys;

    public ManagedSecretWatch(ISyncCluster cluster, ISigningKey signingKey, SyncSettings settings, TimeProvider time, ILogger<ManagedSecretWatch> log)
    {
        _signingKey = signingKey;
        Informer = ManagedSecretInformer.Create(cluster, time, log, Keep, settings.WatchSilenceLimit);
    }

    public Informer<V1Secret> Informer { get; }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Informer.RunAsync(stoppingToken);

    private V1Secret Keep(V1Secret secret)
    {
        // Keys are re-read now and then (they can be rotated); an event never waits for that read.
        var latest = _signingKey.GetAsync(CancellationToken.None);
        if (latest.IsCompletedSuccessfully)
            _keys = latest.Result;
        return _keys is null || ManagedSecretSignature.Verify(_keys, secret) == SignatureCheck.Invalid ? ManagedSecretInformer.WithoutData(secret) : secret;
    }
}
