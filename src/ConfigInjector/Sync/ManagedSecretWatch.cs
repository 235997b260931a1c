using ConfigInjector.Core.Planning;
using ConfigInjector.ManagedSecrets;
using k8s.Models;

namespace ConfigInjector.Sync;

/// <summary>
/// The one informer over managed Secrets in a process, shared by its listeners: every replica's cache invalidation
/// and, while it leads, the sync worker (one list and one watch per replica, not one per listener); only while it leads
/// does the store keep the Secrets, so a follower's memory does not grow with them. It lists only once
/// the signing keys are known: a Secret the injector signed is kept whole, and one it cannot verify (anyone who may
/// create a Secret can set the label) is kept as a few hundred bytes of identity, whatever its size; the rotation pass
/// reads such a Secret again before it decides anything about it.
/// </summary>
internal sealed partial class ManagedSecretWatch : BackgroundService
{
    private readonly ISigningKey _signingKey;
    private readonly SyncSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger<ManagedSecretWatch> _log;
    private readonly SharedStrings _strings = new();
    private readonly SharedMaps _maps;
    private SigningKeys? _keys;

    public ManagedSecretWatch(ISyncCluster cluster, ISigningKey signingKey, SyncSettings settings, TimeProvider time, ILogger<ManagedSecretWatch> log)
    {
        _signingKey = signingKey;
        _settings = settings;
        _time = time;
        _log = log;
        _maps = new SharedMaps(_strings);
        // Only the leader needs the Secrets kept (it starts retaining when it leads): a follower's cache invalidation
        // acts on each change as it comes, so a follower holds nothing per managed Secret.
        Informer = ManagedSecretInformer.Create(cluster, time, log, Keep, settings.WatchSilenceLimit, retain: false, storeAs: Store);
    }

    public Informer<V1Secret> Informer { get; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _keys = await _signingKey.UntilKnownAsync(_settings.SigningKeyWait, _time, reason => LogNoKey(_log, reason), stoppingToken);
        if (_keys is null)
            return;
        await Informer.RunAsync(stoppingToken);
    }

    private V1Secret Keep(V1Secret secret)
    {
        // Keys are re-read now and then (they can be rotated); an event never waits for that read.
        var latest = _signingKey.GetAsync(CancellationToken.None);
        if (latest.IsCompletedSuccessfully)
            _keys = latest.Result;
        return _keys is null || ManagedSecretSignature.Verify(_keys, secret) == SignatureCheck.Invalid ? ManagedSecretInformer.WithoutData(secret) : secret;
    }

    /// <summary>
    /// What the leader keeps: of a Secret signed with the current key, a <see cref="KeptSecret"/> (digests, not values:
    /// the leader's memory must not grow with every value of the cluster); any other as <see cref="Keep"/> left it.
    /// </summary>
    private V1Secret Store(V1Secret secret) =>
        _keys is { } keys && !ManagedSecretInformer.IsStub(secret) && ManagedSecretSignature.Verify(keys, secret) == SignatureCheck.Current
            ? KeptSecret.From(secret, keys.Current, _strings, _maps)
            : _strings.Share(secret);

    [LoggerMessage(Level = LogLevel.Warning, Message = "the managed-Secret informer waits for the signing key: {Reason}")]
    private static partial void LogNoKey(ILogger logger, string reason);
}
