using System.Collections.Concurrent;
using k8s;
using k8s.Models;

namespace ConfigInjector.Sync;

/// <summary>
/// A cache of one kind of object kept current the way client-go's informers do: list, then watch from the list's
/// resourceVersion (bookmarks keep it fresh), relist on 410 Gone, reconnect with jitter when the watch ends. The
/// list and watch come from the adapter, which reports an expired resourceVersion as a <see cref="ClusterApiException"/>
/// with status 410, whether the list answers it or the watch sends it as an error event.
/// </summary>
internal sealed partial class Informer<T>(
    string name,
    Func<CancellationToken, Task<(IEnumerable<T> Items, string? ResourceVersion)>> list,
    Func<string, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType, T)>> watch,
    TimeProvider time,
    ILogger log,
    TimeSpan? silenceLimit = null,
    bool retain = true,
    Func<T, T>? storeAs = null)
    where T : IKubernetesObject<V1ObjectMeta>
{
    /// <summary>
    /// A watch that brings nothing, not even a bookmark (the API server sends one about every minute), for this long is
    /// taken for a connection that died without closing (a NAT or load balancer dropped it) and is opened again.
    /// </summary>
    public static readonly TimeSpan DefaultSilenceLimit = TimeSpan.FromMinutes(5);

    private readonly TimeSpan _silenceLimit = silenceLimit ?? DefaultSilenceLimit;

    // Keyed by the object's own namespace and name strings: a key string of its own would cost as much as half a kept Secret.
    private readonly ConcurrentDictionary<(string? Namespace, string Name), T> _store = new();
    private TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // Whether the store keeps what is listed and watched. Listeners are told of every change either way; an informer
    // whose listeners need no store (every replica's cache invalidation) holds nothing per object until asked.
    private volatile bool _retaining = retain;
    private readonly Func<T, T> _storeAs = storeAs ?? (item => item);
    private int _relistRequested;
    private CancellationTokenSource? _restart;

    /// <summary>Raised for every add, change or delete (the object as last seen), to feed a work queue.</summary>
    public event Action<WatchEventType, T>? Changed;

    public IReadOnlyCollection<T> Items => [.. _store.Values];

    /// <summary>Completes once the store holds a full list (after <see cref="StartRetaining"/>, the list that follows it).</summary>
    public Task WaitForSyncAsync(CancellationToken cancellationToken) => Volatile.Read(ref _synced).Task.WaitAsync(cancellationToken);

    /// <summary>
    /// From now on the store keeps every object: the informer lists again at once (the watch it is on is ended) and
    /// <see cref="WaitForSyncAsync"/> completes when that list is in.
    /// </summary>
    public void StartRetaining()
    {
        if (_retaining)
            return;
        Volatile.Write(ref _synced, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        _retaining = true;
        Interlocked.Exchange(ref _relistRequested, 1);
        try
        {
            Volatile.Read(ref _restart)?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // That watch has ended already; the loop sees the request before it watches again.
        }
    }

    /// <summary>The store lets go of every object; listeners are still told of every change.</summary>
    public void StopRetaining()
    {
        _retaining = false;
        _store.Clear();
    }

    public T? Get(string? @namespace, string objectName) => _store.GetValueOrDefault(Key(@namespace, objectName));

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        string? resourceVersion = null;
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (Interlocked.Exchange(ref _relistRequested, 0) == 1 || resourceVersion is null)
                    resourceVersion = await RelistAsync(cancellationToken);

                Exception? watchError = null;
                using var silence = new CancellationTokenSource(_silenceLimit, time);
                using var restart = new CancellationTokenSource();
                Volatile.Write(ref _restart, restart);
                if (Volatile.Read(ref _relistRequested) == 1)
                    continue;
                using var watching = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, silence.Token, restart.Token);
                try
                {
                    await foreach (var (type, item) in watch(resourceVersion!, e => watchError = e, watching.Token))
                    {
                        silence.CancelAfter(_silenceLimit);
                        resourceVersion = item.Metadata?.ResourceVersion ?? resourceVersion;
                        Apply(type, item);
                    }
                }
                catch (OperationCanceledException) when (silence.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    // Silent too long: watch again from where we were (a relist follows only if that is too old).
                    LogSilent(log, name, _silenceLimit.TotalSeconds);
                }
                catch (OperationCanceledException) when (restart.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    // Asked to keep a store: list now rather than after a backoff.
                    continue;
                }
                if (watchError is ClusterApiException { IsGone: true })
                {
                    LogExpired(log, name);
                    resourceVersion = null;
                }
                failures = 0;
            }
            catch (ClusterApiException e) when (e.IsGone)
            {
                resourceVersion = null;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // Whatever went wrong (API error, a malformed object, a handler), the cache must keep trying.
                failures++;
                LogWatchFailed(log, name, e.Message.Split('\n')[0]);
            }

            try
            {
                await Task.Delay(Backoff(failures), time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task<string?> RelistAsync(CancellationToken cancellationToken)
    {
        var retaining = _retaining;
        var synced = Volatile.Read(ref _synced);
        var (listed, version) = await list(cancellationToken);
        if (!retaining)
        {
            foreach (var item in listed)
                Notify(WatchEventType.Modified, item);
            return version;
        }
        var fresh = listed.ToDictionary(i => Key(i.Metadata.NamespaceProperty, i.Metadata.Name));
        foreach (var gone in _store.Keys.Where(k => !fresh.ContainsKey(k)).ToList())
        {
            if (_store.TryRemove(gone, out var removed))
                Notify(WatchEventType.Deleted, removed);
        }
        foreach (var (key, item) in fresh)
        {
            if (_retaining)
                Store(key, item);
            Notify(WatchEventType.Modified, item);
        }
        synced.TrySetResult();
        return version;
    }

    private void Notify(WatchEventType type, T item)
    {
        try
        {
            Changed?.Invoke(type, item);
        }
        catch (Exception e)
        {
            LogHandlerFailed(log, name, e.GetType().Name);
        }
    }

    private void Apply(WatchEventType type, T item)
    {
        var key = Key(item.Metadata.NamespaceProperty, item.Metadata.Name);
        switch (type)
        {
            case WatchEventType.Added or WatchEventType.Modified:
                if (_retaining)
                    Store(key, item);
                Notify(type, item);
                break;
            case WatchEventType.Deleted:
                _store.TryRemove(key, out _);
                Notify(type, item);
                break;
        }
    }

    // Jittered so a fleet of replicas does not reconnect in lockstep after an API server restart.
    private static TimeSpan Backoff(int failures) =>
        TimeSpan.FromMilliseconds(Math.Min(30_000, 200 * Math.Pow(2, Math.Min(failures, 8))) * (0.5 + Random.Shared.NextDouble()));

    private static (string? Namespace, string Name) Key(string? @namespace, string objectName) => (@namespace, objectName);

    /// <summary>Stored under the kept object's own strings, so the key holds nothing of its own.</summary>
    private void Store((string? Namespace, string Name) key, T item)
    {
        var stored = _storeAs(item);
        _store[(stored.Metadata?.NamespaceProperty ?? key.Namespace, stored.Metadata?.Name ?? key.Name)] = stored;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Informer}: the watch was silent for {Seconds}s; watching again")]
    private static partial void LogSilent(ILogger logger, string informer, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Informer}: watch expired (410), relisting")]
    private static partial void LogExpired(ILogger logger, string informer);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Informer}: a change handler failed with {Exception}")]
    private static partial void LogHandlerFailed(ILogger logger, string informer, string exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Informer}: watch failed, retrying: {Reason}")]
    private static partial void LogWatchFailed(ILogger logger, string informer, string reason);
}
