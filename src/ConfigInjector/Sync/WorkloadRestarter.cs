using ConfigInjector.Observability;
using k8s.Models;

namespace ConfigInjector.Sync;

/// <summary>A Deployment, StatefulSet or DaemonSet to roll.</summary>
internal sealed record Workload(string Kind, string Namespace, string Name)
{
    public override string ToString() => $"{Kind} {Namespace}/{Name}";
}

/// <summary>What a queued restart is checked against right before it starts, and told once it is handled.</summary>
internal interface IRestartCause
{
    Task<RestartVerdict> CheckAsync(Workload workload, CancellationToken cancellationToken);

    /// <summary>Why, for the workload's Event: the refs and versions that changed (never a value).</summary>
    string Reason { get; }

    /// <summary>The workload was restarted, or found not to need it.</summary>
    Task DoneAsync(Workload workload, CancellationToken cancellationToken);
}

internal enum RestartVerdict
{
    Due,
    NotDue,

    /// <summary>Restarted for this cause already (perhaps by an earlier leader) and still rolling out: it holds a slot.</summary>
    AlreadyRolling,
}

/// <summary>
/// Rolls workloads the way <c>kubectl rollout restart</c> does (a <c>kubectl.kubernetes.io/restartedAt</c> annotation
/// on the pod template), at most <c>maxConcurrentRestarts</c> at a time: a slot frees when the rollout has finished
/// (or timed out). A restart queued with a cause is checked against it right before it starts.
/// </summary>
internal sealed partial class WorkloadRestarter(ISyncCluster cluster, SyncSettings settings, TimeProvider time, InjectorMetrics metrics, ILogger<WorkloadRestarter> log)
{
    public const string RestartedAtAnnotation = "kubectl.kubernetes.io/restartedAt";

    public const string DefaultReason = "restarted because a secret it reads as an env var was rotated";

    private sealed record Queued(Workload Workload, IRestartCause? Cause);

    /// <summary>A rollout holding a slot: since when, and the workload as the restart found it (null for one an earlier leader started).</summary>
    private sealed record Rollout(DateTimeOffset Started, V1ObjectMeta? Metadata);

    private readonly Lock _lock = new();
    private readonly List<Queued> _pending = [];
    private readonly Dictionary<Workload, Rollout> _running = [];
    private readonly HashSet<Workload> _again = [];

    public int Pending
    {
        get
        {
            lock (_lock)
                return _pending.Count;
        }
    }

    /// <summary>Nothing queued and no rollout in flight.</summary>
    public bool Idle
    {
        get
        {
            lock (_lock)
                return _pending.Count == 0 && _running.Count == 0;
        }
    }

    /// <summary>Queues one workload (e.g. one the blast-radius report found still on an older version).</summary>
    public void Enqueue(Workload workload)
    {
        lock (_lock)
        {
            if (_running.ContainsKey(workload))
                _again.Add(workload);
            else if (!_pending.Any(q => q.Workload == workload && q.Cause is null))
                _pending.Add(new Queued(workload, null));
        }
    }

    /// <summary>Queues a workload for <paramref name="cause"/>, which decides right before the restart whether it is still due.</summary>
    public void Enqueue(Workload workload, IRestartCause cause)
    {
        lock (_lock)
            _pending.Add(new Queued(workload, cause));
    }

    /// <summary>Drops everything queued and in flight (leadership is lost: the next leader works from what the cluster records).</summary>
    public void Forget()
    {
        lock (_lock)
        {
            _pending.Clear();
            _running.Clear();
            _again.Clear();
        }
    }

    /// <summary>Frees the slots of finished rollouts and starts pending ones; called on every worker tick.</summary>
    public async Task PumpAsync(CancellationToken cancellationToken)
    {
        await FreeFinishedAsync(cancellationToken);
        while (true)
        {
            Queued next;
            lock (_lock)
            {
                // One workload rolls once at a time: a second cause for it waits until the first rollout is done.
                var index = _running.Count >= settings.MaxConcurrentRestarts ? -1 : _pending.FindIndex(q => !_running.ContainsKey(q.Workload));
                if (index < 0)
                    return;
                next = _pending[index];
                _pending.RemoveAt(index);
            }
            var verdict = next.Cause is null ? RestartVerdict.Due : await next.Cause.CheckAsync(next.Workload, cancellationToken);
            if (verdict == RestartVerdict.AlreadyRolling)
            {
                lock (_lock)
                    _running.TryAdd(next.Workload, new Rollout(time.GetUtcNow(), null));
            }
            if (verdict == RestartVerdict.Due)
            {
                lock (_lock)
                    _running[next.Workload] = new Rollout(time.GetUtcNow(), null);
                if (!await RestartAsync(next, cancellationToken))
                    continue;
            }
            if (next.Cause is not null)
                await next.Cause.DoneAsync(next.Workload, cancellationToken);
        }
    }

    private async Task FreeFinishedAsync(CancellationToken cancellationToken)
    {
        List<(Workload Workload, Rollout Rollout)> running;
        lock (_lock)
            running = [.. _running.Select(r => (r.Key, r.Value))];
        foreach (var (workload, rollout) in running)
        {
            var finished = await cluster.IsRolledOutAsync(workload, cancellationToken);
            var timedOut = !finished && time.GetUtcNow() - rollout.Started > settings.RestartTimeout;
            if (!finished && !timedOut)
                continue;
            metrics.Restarts.WithLabels(workload.Namespace, workload.Kind, finished ? "finished" : "timed_out").Inc();
            if (timedOut)
                LogTimedOut(log, workload.ToString());
            await cluster.RecordEventAsync(Reference(workload, rollout.Metadata), finished ? "Normal" : "Warning", finished ? "RolloutFinished" : "RolloutTimedOut",
                finished ? "the rollout restart has finished" : $"the rollout restart did not finish within {settings.RestartTimeout}; its slot is freed", cancellationToken);
            lock (_lock)
            {
                _running.Remove(workload);
                if (_again.Remove(workload))
                    _pending.Add(new Queued(workload, null));
            }
        }
    }

    /// <summary>Starts one rollout; false when it failed in a way that may pass and was queued again.</summary>
    private async Task<bool> RestartAsync(Queued queued, CancellationToken cancellationToken)
    {
        var workload = queued.Workload;
        cancellationToken.ThrowIfCancellationRequested();
        using var span = SyncTracing.StartRestart(workload, queued.Cause?.Reason ?? DefaultReason);
        try
        {
            var metadata = await cluster.RestartAsync(workload, time.GetUtcNow(), cancellationToken);
            span?.SetTag(Tracing.Result, "started");
            lock (_lock)
            {
                if (_running.TryGetValue(workload, out var rollout))
                    _running[workload] = rollout with { Metadata = metadata };
            }
            metrics.Restarts.WithLabels(workload.Namespace, workload.Kind, "started").Inc();
            LogRestarted(log, workload.ToString());
            await cluster.RecordEventAsync(Reference(workload, metadata), "Normal", "RolloutRestart",
                queued.Cause?.Reason ?? DefaultReason, cancellationToken);
            return true;
        }
        catch (ClusterApiException e)
        {
            Tracing.Fail(span, e.Message);
            metrics.Restarts.WithLabels(workload.Namespace, workload.Kind, "failed").Inc();
            LogRestartFailed(log, workload.ToString(), e.Message);
            await cluster.RecordEventAsync(Reference(workload, null), "Warning", "RestartFailed",
                $"the rollout restart failed{(e.MayPass ? ", trying again" : "")}: {e.Message.Split('\n')[0]}", cancellationToken);
            lock (_lock)
            {
                _running.Remove(workload);
                // A conflict, throttling or a server error may pass: try again after the others. Not found or
                // forbidden will not, and retrying on every tick would only flood the API server and the log.
                if (e.MayPass)
                    _pending.Add(queued);
            }
            return !e.MayPass;
        }
    }

    /// <summary>The workload an Event is about: as the restart found it, else by kind, namespace and name.</summary>
    private static V1ObjectReference Reference(Workload workload, V1ObjectMeta? metadata) =>
        metadata is not null
            ? ObjectReferences.Of("apps/v1", workload.Kind, metadata)
            : new V1ObjectReference { ApiVersion = "apps/v1", Kind = workload.Kind, NamespaceProperty = workload.Namespace, Name = workload.Name };

    [LoggerMessage(Level = LogLevel.Information, Message = "rollout restart of {Workload}")]
    private static partial void LogRestarted(ILogger logger, string workload);

    [LoggerMessage(Level = LogLevel.Warning, Message = "rollout restart of {Workload} failed: {Reason}")]
    private static partial void LogRestartFailed(ILogger logger, string workload, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "rollout of {Workload} did not finish in time; freeing its slot")]
    private static partial void LogTimedOut(ILogger logger, string workload);
}
