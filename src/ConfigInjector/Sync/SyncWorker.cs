using ConfigInjector.Core.Planning;
using ConfigInjector.Observability;
using k8s.Models;

namespace ConfigInjector.Sync;

/// <summary>
/// The sync worker: every replica runs it, but only the holder of the <c>coordination.k8s.io</c> Lease does any
/// work (leader election as client-go does it). While leading it keeps an informer over managed Secrets, rotates
/// those that are due, paces restarts, adopts and collects orphans and reports missed injections. Losing the lease
/// cancels the leader's token at once, so no write follows; a new leader starts with every Secret due, so a pass
/// interrupted by a crash is finished. The <see cref="ILeaderTask"/>s registered run beside it, under the same term.
/// </summary>
internal sealed partial class SyncWorker(
    ISyncCluster cluster,
    ManagedSecretWatch watch,
    RotationPass rotation,
    RestartRecords restarts,
    WorkloadRestarter restarter,
    ManagedSecretCollector collector,
    MissedInjectionScanner scanner,
    SyncSettings settings,
    LeaseElection election,
    IEnumerable<ILeaderTask> leaderTasks,
    TimeProvider time,
    InjectorMetrics metrics,
    ILogger<SyncWorker> log) : BackgroundService
{
    private volatile bool _leading;

    public bool IsLeader => _leading;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var elector = new LeaderElector(cluster, election, time);
            CancellationTokenSource? leading = null;
            Task? work = null;
            elector.OnStartedLeading += () =>
            {
                leading = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                _leading = true;
                metrics.Leader.Set(1);
                LogLeading(log, election.Identity);
                var token = leading.Token;
                work = Task.WhenAll([Task.Run(() => LeadAsync(token), CancellationToken.None), .. leaderTasks.Select(t => Task.Run(() => RunTaskAsync(t, token), CancellationToken.None))]);
            };
            elector.OnStoppedLeading += () =>
            {
                _leading = false;
                restarts.Forget();
                metrics.Leader.Set(0);
                metrics.ClearLeaderGauges();
                leading?.Cancel();
                LogStopped(log, election.Identity);
            };
            try
            {
                await elector.RunUntilLeadershipLostAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // A worker that throws would stop the whole host, admission included: log and stand for election again.
                LogElectionFailed(log, $"{e.GetType().Name}: {e.Message.Split('\n')[0]}");
            }
            _leading = false;
            metrics.Leader.Set(0);
            metrics.ClearLeaderGauges();
            if (leading is not null)
                await leading.CancelAsync();
            if (work is not null)
                await work.ContinueWith(_ => { }, TaskScheduler.Default);
            leading?.Dispose();
            if (!stoppingToken.IsCancellationRequested)
                await Delay(settings.RetryPeriod, stoppingToken);
        }
    }

    private async Task LeadAsync(CancellationToken token)
    {
        var informer = watch.Informer;
        // A new leader starts with every Secret due (a pass cut short by the last leader's end is finished); a
        // Secret that appears later is due after its interval (admission has just filled it).
        var due = new WorkSchedule<(string Namespace, string Name)>(time);
        var refreshes = new RefreshRequests(time, settings.RefreshBatchWindow);
        var synced = false;
        void OnChanged(WatchEventType type, V1Secret secret)
        {
            var key = (secret.Metadata.NamespaceProperty, secret.Metadata.Name);
            if (type == WatchEventType.Deleted)
            {
                due.Forget(key);
                refreshes.Forget(secret);
                return;
            }
            restarts.Track(secret);
            var known = Volatile.Read(ref synced);
            due.AddIfAbsent(key, known ? ManagedSecretFactory.ReadRotation(secret).Interval : TimeSpan.Zero);
            if (refreshes.Requested(secret, known && type == WatchEventType.Modified) is { } at)
            {
                LogRefreshRequested(log, key.NamespaceProperty, key.Name);
                due.Expedite(key, at);
            }
        }
        informer.Changed += OnChanged;
        informer.StartRetaining();
        try
        {
            await informer.WaitForSyncAsync(token);
            // Restarts come from the records on the Secrets, never from what this replica queued in an earlier term.
            restarts.Forget();
            foreach (var secret in informer.Items)
            {
                due.AddIfAbsent((secret.Metadata.NamespaceProperty, secret.Metadata.Name), TimeSpan.Zero);
                restarts.Track(secret);
            }
            Volatile.Write(ref synced, true);
            var nextScan = time.GetUtcNow();
            var nextCollect = time.GetUtcNow();
            while (!token.IsCancellationRequested)
            {
                var passStarted = time.GetUtcNow();
                try
                {
                    (nextCollect, nextScan) = await PassAsync(informer, due, nextCollect, nextScan, token);
                }
                catch (Exception e) when (!token.IsCancellationRequested)
                {
                    // One failing call (API, backend, a malformed object) must not end the leader's term.
                    LogPassFailed(log, $"{e.GetType().Name}: {e.Message.Split('\n')[0]}");
                    var later = time.GetUtcNow() + settings.FailedPassHold;
                    (nextCollect, nextScan) = (nextCollect < later ? later : nextCollect, nextScan < later ? later : nextScan);
                }
                await Delay(refreshes.UntilNextPass(settings.Tick, passStarted), token);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        finally
        {
            informer.Changed -= OnChanged;
            informer.StopRetaining();
        }
    }

    private async Task RunTaskAsync(ILeaderTask task, CancellationToken token)
    {
        try
        {
            await task.RunAsync(token);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // A task that fails ends itself only, not the term: the worker's own passes go on.
            LogTaskFailed(log, task.Name, $"{e.GetType().Name}: {e.Message.Split('\n')[0]}");
        }
    }

    /// <summary>One tick of the leader: rotate what is due, pace restarts, and now and then collect orphans and scan for missed pods.</summary>
    private async Task<(DateTimeOffset NextCollect, DateTimeOffset NextScan)> PassAsync(
        Informer<V1Secret> informer, WorkSchedule<(string Namespace, string Name)> due, DateTimeOffset nextCollect, DateTimeOffset nextScan, CancellationToken token)
    {
        var now = time.GetUtcNow();
        metrics.ManagedSecrets.Set(informer.Items.Count);
        // Held back up front: a pass that fails must not retry the same Secrets on every tick.
        var ready = new List<V1Secret>();
        foreach (var key in due.TakeDue(settings.FailedPassHold, settings.MaxSecretsPerTick))
        {
            // Gone from the cache since it was queued (deleted): nothing to do, and no slot to hold.
            if (informer.Get(key.Namespace, key.Name) is { } secret)
                ready.Add(secret);
            else
                due.Forget(key);
        }
        if (ready.Count > 0)
        {
            var results = await rotation.RunAsync(ready, token);
            foreach (var result in results)
            {
                if (result.Backoff)
                    due.Retry((result.Namespace, result.Name), settings.RetryAfterFailure, result.RequeueAfter);
                else
                    due.Schedule((result.Namespace, result.Name), Jitter(result.RequeueAfter));
            }
        }
        await restarts.ResolveAsync(token);
        await restarter.PumpAsync(token);
        if (now >= nextCollect)
        {
            nextCollect = now + settings.MissedInjectionScanInterval;
            await collector.CollectAsync(informer.Items, token);
        }
        if (now >= nextScan)
        {
            nextScan = now + settings.MissedInjectionScanInterval;
            await scanner.ScanAsync(informer.Items, token);
        }
        return (nextCollect, nextScan);
    }

    // ±10% so Secrets created together do not all come due in the same tick forever.
    private static TimeSpan Jitter(TimeSpan interval) => interval * (0.9 + Random.Shared.NextDouble() * 0.2);

    private async Task Delay(TimeSpan delay, CancellationToken token)
    {
        try
        {
            await Task.Delay(delay, time, token);
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Identity} leads the sync worker")]
    private static partial void LogLeading(ILogger logger, string identity);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Identity} stopped leading the sync worker")]
    private static partial void LogStopped(ILogger logger, string identity);

    [LoggerMessage(Level = LogLevel.Warning, Message = "leader election failed, retrying: {Reason}")]
    private static partial void LogElectionFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "the leader's {Task} stopped until the next term: {Reason}")]
    private static partial void LogTaskFailed(ILogger logger, string task, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "managed Secret {Namespace}/{Name}: refresh requested")]
    private static partial void LogRefreshRequested(ILogger logger, string @namespace, string name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "sync pass failed, retrying on the next tick: {Reason}")]
    private static partial void LogPassFailed(ILogger logger, string reason);
}

/// <summary>Where the Lease lives and who holds it (DESIGN.md §8: POD_NAMESPACE, POD_NAME else the host name).</summary>
internal sealed record LeaseIdentity(string Namespace, string Identity)
{
    /// <summary>
    /// The Lease and the signing key live in <c>POD_NAMESPACE</c>: guessing "default" would put the key where other
    /// teams may read it and split the replicas' election, so a cluster run without it does not start.
    /// </summary>
    public static LeaseIdentity FromEnvironment() => new(
        Environment.GetEnvironmentVariable("POD_NAMESPACE") is { Length: > 0 } ns
            ? ns
            : throw new Configuration.ConfigException("POD_NAMESPACE is not set: in a cluster the injector keeps its Lease and signing key in its own namespace; set it from the downward API (fieldRef metadata.namespace)"),
        Environment.GetEnvironmentVariable("POD_NAME") is { Length: > 0 } name ? name : Environment.MachineName);
}
