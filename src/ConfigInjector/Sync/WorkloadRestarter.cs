using ConfigInjector.Observability;
using k8s.Models;

namespace ConfigInjector.Sync;

/// <summary>A Deployment, StatefulSet or DaemonSet to roll.</summary>
internal sealed record Workload(string Kind, string Namespace, string Name)
{
    public override string ToString() => $"{Kind} {Namespace}/{Name}";
}

/// <summary>
/// Rolls the workloads that consume a rotated env value the way <c>kubectl rollout restart</c> does (a
/// <c>kubectl.kubernetes.io/restartedAt</c> annotation on the pod template), at most <c>maxConcurrentRestarts</c>
/// at a time: a slot frees when the rollout has finished (or timed out).
/// </summary>
internal sealed partial class WorkloadRestarter(ISyncCluster cluster, SyncSettings settings, TimeProvider time, InjectorMetrics metrics, ILogger<WorkloadRestarter> log)
{
    public const string RestartedAtAnnotation = "kubectl.kubernetes.io/restartedAt";

    private readonly Lock _lock = new();
    private readonly List<Workload> _pending = [];
    private readonly Dictionary<Workload, DateTimeOffset> _running = [];
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
            else if (!_pending.Contains(workload))
                _pending.Add(workload);
        }
    }

    /// <summary>Queues the workloads that own a managed Secret (through their ReplicaSet for a Deployment).</summary>
    public async Task EnqueueAsync(V1Secret secret, CancellationToken cancellationToken)
    {
        foreach (var owner in secret.Metadata.OwnerReferences ?? [])
        {
            var workload = await ResolveAsync(secret.Metadata.NamespaceProperty, owner, cancellationToken);
            if (workload is null)
            {
                metrics.Restarts.WithLabels("not_possible").Inc();
                continue;
            }
            Enqueue(workload);
        }
    }

    /// <summary>Frees the slots of finished rollouts and starts pending ones; called on every worker tick.</summary>
    public async Task PumpAsync(CancellationToken cancellationToken)
    {
        List<(Workload Workload, DateTimeOffset Started)> running;
        lock (_lock)
            running = [.. _running.Select(r => (r.Key, r.Value))];
        foreach (var (workload, started) in running)
        {
            var finished = await cluster.IsRolledOutAsync(workload, cancellationToken);
            var timedOut = !finished && time.GetUtcNow() - started > settings.RestartTimeout;
            if (!finished && !timedOut)
                continue;
            metrics.Restarts.WithLabels(finished ? "completed" : "timed_out").Inc();
            if (timedOut)
                LogTimedOut(log, workload.ToString());
            lock (_lock)
            {
                _running.Remove(workload);
                if (_again.Remove(workload))
                    _pending.Add(workload);
            }
        }

        while (true)
        {
            Workload next;
            lock (_lock)
            {
                if (_running.Count >= settings.MaxConcurrentRestarts || _pending.Count == 0)
                    return;
                next = _pending[0];
                _pending.RemoveAt(0);
                _running[next] = time.GetUtcNow();
            }
            await RestartAsync(next, cancellationToken);
        }
    }

    private async Task RestartAsync(Workload workload, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            var metadata = await cluster.RestartAsync(workload, time.GetUtcNow(), cancellationToken);
            metrics.Restarts.WithLabels("started").Inc();
            LogRestarted(log, workload.ToString());
            await cluster.RecordEventAsync(ObjectReferences.Of("apps/v1", workload.Kind, metadata), "Normal", "RolloutRestart",
                "restarted because a secret it reads as an env var was rotated", cancellationToken);
        }
        catch (ClusterApiException e)
        {
            metrics.Restarts.WithLabels("failed").Inc();
            LogRestartFailed(log, workload.ToString(), e.Message);
            lock (_lock)
            {
                _running.Remove(workload);
                // A conflict, throttling or a server error may pass: try again after the others. Not found or
                // forbidden will not, and retrying on every tick would only flood the API server and the log.
                if (e.MayPass)
                    _pending.Add(workload);
            }
        }
    }

    private async Task<Workload?> ResolveAsync(string ns, V1OwnerReference owner, CancellationToken cancellationToken)
    {
        switch (owner.Kind)
        {
            case "Deployment" or "StatefulSet" or "DaemonSet":
                return new Workload(owner.Kind, ns, owner.Name);
            case "ReplicaSet":
                var replicaSet = await cluster.ReadReplicaSetAsync(ns, owner.Name, cancellationToken);
                // An old ReplicaSet kept for rollback runs no pods: its Secret changing is no reason to roll the Deployment.
                if (replicaSet is null || (replicaSet.Spec?.Replicas ?? 1) == 0)
                    return null;
                var controller = replicaSet.Metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true && o.Kind == "Deployment");
                return controller is null ? null : new Workload("Deployment", ns, controller.Name);
            default:
                // A bare pod (or a Job's pod) cannot be rolled; say so where its owner will look.
                await cluster.RecordEventAsync(new V1ObjectReference { ApiVersion = owner.ApiVersion, Kind = owner.Kind, Name = owner.Name, NamespaceProperty = ns, Uid = owner.Uid },
                    "Warning", "RestartNeeded", "a secret this object reads as an env var was rotated; recreate it to pick up the new value", cancellationToken);
                return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "rollout restart of {Workload}")]
    private static partial void LogRestarted(ILogger logger, string workload);

    [LoggerMessage(Level = LogLevel.Warning, Message = "rollout restart of {Workload} failed: {Reason}")]
    private static partial void LogRestartFailed(ILogger logger, string workload, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "rollout of {Workload} did not finish in time; freeing its slot")]
    private static partial void LogTimedOut(ILogger logger, string workload);
}
