using ConfigInjector.Core.Planning;
using ConfigInjector.ManagedSecrets;
using ConfigInjector.Observability;
using k8s.Models;

namespace ConfigInjector.Sync;

/// <summary>
/// The leader's view of the restart records on managed Secrets (<see cref="RestartRecord"/>): each one seen is read
/// again once its debounce window has passed, verified, turned into its Secret's workloads (through a ReplicaSet to its Deployment) and queued on the
/// restarter, which checks each right before restarting it (<see cref="RestartDue"/>). Once every workload of a
/// record is handled, the record is removed from the Secret. Nothing here outlives the leader's term: the next leader
/// starts again from the records.
/// </summary>
internal sealed partial class RestartRecords(ISyncCluster cluster, ISigningKey signingKey, WorkloadRestarter restarter, TimeProvider time, InjectorMetrics metrics, ILogger<RestartRecords> log)
{
    private readonly ISyncCluster _cluster = cluster;
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Namespace, string Name), Record> _records = [];

    /// <summary>Records seen but not yet turned into workloads.</summary>
    public int Unresolved
    {
        get
        {
            lock (_lock)
                return _records.Values.Count(r => r.Waiting is null);
        }
    }

    /// <summary>Notes a managed Secret that carries a restart record (others are ignored); it is verified when it is worked on.</summary>
    public void Track(V1Secret secret)
    {
        if (RestartRecord.Claimed(secret) is not { } claimed)
            return;
        var key = (secret.Metadata.NamespaceProperty, secret.Metadata.Name);
        lock (_lock)
        {
            if (!_records.TryGetValue(key, out var known) || known.Since != claimed.Since)
                _records[key] = new Record(this, key, claimed.Since) { NotBefore = claimed.NotBefore };
        }
    }

    /// <summary>Leadership is lost (or begins): forget every record seen and everything queued for them.</summary>
    public void Forget()
    {
        lock (_lock)
            _records.Clear();
        restarter.Forget();
    }

    /// <summary>Turns each newly seen record into restarts queued on the restarter; called on every worker tick.</summary>
    public async Task ResolveAsync(CancellationToken cancellationToken)
    {
        List<Record> fresh;
        var now = time.GetUtcNow();
        lock (_lock)
            fresh = [.. _records.Values.Where(r => r.Waiting is null && r.NotBefore <= now)];
        if (fresh.Count == 0)
            return;
        var keys = await signingKey.GetAsync(cancellationToken);
        foreach (var record in fresh)
        {
            var (ns, name) = record.Key;
            V1Secret secret;
            try
            {
                secret = await _cluster.ReadSecretAsync(ns, name, cancellationToken);
            }
            catch (ClusterApiException e) when (e.IsNotFound)
            {
                Remove(record);
                continue;
            }
            // Only a record the injector signed, on a Secret it signed, decides a restart: a forged one is dropped here
            // (and seen again only when the Secret changes); one replaced by a newer rotation is tracked as that.
            var verified = RestartRecord.ReadDue(keys, secret);
            if (verified is null || ManagedSecretSignature.Verify(keys, secret) == SignatureCheck.Invalid)
            {
                Remove(record);
                continue;
            }
            if (verified.Since != record.Since)
            {
                Remove(record);
                Track(secret);
                continue;
            }
            // Still inside its debounce window (the claim read first said otherwise): a later change may join it.
            record.NotBefore = verified.NotBefore;
            record.Changes = verified.Changes;
            if (verified.NotBefore > now)
                continue;
            var workloads = new HashSet<Workload>();
            foreach (var owner in secret.Metadata.OwnerReferences ?? [])
            {
                if (await WorkloadOfAsync(ns, owner, cancellationToken) is { } workload)
                    workloads.Add(workload);
                else
                    metrics.Restarts.WithLabels(ns, owner.Kind ?? "", "not_possible").Inc();
            }
            lock (_lock)
            {
                if (_records.GetValueOrDefault(record.Key) != record)
                    continue;
                record.Waiting = workloads;
            }
            foreach (var workload in workloads)
                restarter.Enqueue(workload, record);
            if (workloads.Count == 0)
                await ClearAsync(record, cancellationToken);
        }
    }

    private void Remove(Record record)
    {
        lock (_lock)
        {
            if (_records.GetValueOrDefault(record.Key) == record)
                _records.Remove(record.Key);
        }
    }

    private async Task DoneAsync(Record record, Workload workload, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (record.Waiting is null || !record.Waiting.Remove(workload) || record.Waiting.Count > 0 || _records.GetValueOrDefault(record.Key) != record)
                return;
        }
        await ClearAsync(record, cancellationToken);
    }

    /// <summary>Removes the record from the Secret, unless a newer rotation has replaced it meanwhile (that one is then worked through).</summary>
    private async Task ClearAsync(Record record, CancellationToken cancellationToken)
    {
        var (ns, name) = record.Key;
        try
        {
            var secret = await _cluster.ReadSecretAsync(ns, name, cancellationToken);
            if (RestartRecord.Read(await signingKey.GetAsync(cancellationToken), secret) == record.Since)
            {
                cancellationToken.ThrowIfCancellationRequested();
                RestartRecord.Clear(secret);
                await _cluster.ReplaceSecretAsync(secret, cancellationToken);
            }
            Remove(record);
        }
        catch (ClusterApiException e) when (e.IsNotFound)
        {
            Remove(record);
        }
        catch (ClusterApiException e)
        {
            // A conflict or an outage: the record stays on the Secret and is resolved again on a later tick, when
            // every workload it names is found restarted already.
            LogClearFailed(log, ns, name, e.Message);
            lock (_lock)
            {
                if (_records.GetValueOrDefault(record.Key) == record)
                    _records[record.Key] = new Record(this, record.Key, record.Since);
            }
        }
    }

    private async Task<Workload?> WorkloadOfAsync(string ns, V1OwnerReference owner, CancellationToken cancellationToken)
    {
        switch (owner.Kind)
        {
            case "Deployment" or "StatefulSet" or "DaemonSet":
                return new Workload(owner.Kind, ns, owner.Name);
            case "ReplicaSet":
                var replicaSet = await _cluster.ReadReplicaSetAsync(ns, owner.Name, cancellationToken);
                // Another ReplicaSet under that name now is not the owner; an old one kept for rollback runs no pods:
                // neither is a reason to roll the Deployment.
                if (replicaSet is null || replicaSet.Metadata.Uid != owner.Uid || (replicaSet.Spec?.Replicas ?? 1) == 0)
                    return null;
                var controller = replicaSet.Metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true && o.Kind == "Deployment");
                return controller is null ? null : new Workload("Deployment", ns, controller.Name);
            default:
                // A bare pod (or a Job's pod) cannot be rolled; say so where its owner will look.
                await _cluster.RecordEventAsync(new V1ObjectReference { ApiVersion = owner.ApiVersion, Kind = owner.Kind, Name = owner.Name, NamespaceProperty = ns, Uid = owner.Uid },
                    "Warning", "RestartNeeded", "a secret this object reads as an env var was rotated; recreate it to pick up the new value", cancellationToken);
                return null;
        }
    }

    /// <summary>One Secret's record: since when, and the workloads it still waits for (null until resolved).</summary>
    private sealed class Record(RestartRecords records, (string Namespace, string Name) key, DateTimeOffset since) : IRestartCause
    {
        public (string Namespace, string Name) Key { get; } = key;
        public DateTimeOffset Since { get; } = since;
        public HashSet<Workload>? Waiting { get; set; }
        public DateTimeOffset NotBefore { get; set; }

        /// <summary>The refs and versions whose change the restart is for, as the signed record names them.</summary>
        public string Changes { get; set; } = "";

        public string Reason => Changes.Length > 0
            ? $"restarted because secrets it reads as env vars were rotated: {Changes}"
            : WorkloadRestarter.DefaultReason;

        public Task<RestartVerdict> CheckAsync(Workload workload, CancellationToken cancellationToken) =>
            RestartDue.CheckAsync(records._cluster, workload, Key.Name, Since, cancellationToken);

        public Task DoneAsync(Workload workload, CancellationToken cancellationToken) => records.DoneAsync(this, workload, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "restart record of managed Secret {Namespace}/{Name} not cleared, trying again later: {Reason}")]
    private static partial void LogClearFailed(ILogger logger, string @namespace, string name, string reason);
}
