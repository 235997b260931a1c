using ConfigInjector.Backends;
using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Planning;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;
using ConfigInjector.ManagedSecrets;
using ConfigInjector.Observability;
using k8s.Models;

namespace ConfigInjector.Sync;

/// <summary>
/// The leader's care of dynamic credentials, one pass over every <see cref="LeaseRecord"/> per tick: a lease is renewed
/// at two thirds of what Vault granted last; one that cannot outlive its next renewal (the role's max TTL) or has ended
/// is replaced by a new credential, written into the managed Secret with a restart record (so the workload rolls as for
/// any rotation: paced, debounced, with Events), and the lease it replaced is revoked once no pod can hold it — every pod
/// of the Secret was created after the new credential. A record whose Secret no pod uses any more (the workload was
/// deleted or scaled away) is revoked, its Secret deleted, within one pass after the adoption grace period.
/// Its Vault calls share the rotation pass's per-backend rate (<c>sync.backendReadsPerSecond</c>): a leader back from
/// an outage, with every lease due at once, does not flood Vault.
/// No finalizer: a record outlives its Secret in the injector's namespace, so a worker that was down revokes on its
/// return; and a lease nobody renews still ends at its TTL in Vault, so nothing outlives the TTL without the worker.
/// </summary>
internal sealed partial class LeaseKeeper(ISyncCluster cluster, ILeaseRecords records, LeaseIssuers issuers, BackendLimiter limiter, ISigningKey signingKey, SyncSettings settings, InjectorMetrics metrics, TimeProvider time, ILogger<LeaseKeeper> log) : ILeaderTask
{
    // What each managed Secret was last seen to hold (its record's credential versions): a pass reads the Secret only
    // when its record holds other credentials than that — once per Secret when this replica starts leading, then after
    // a re-issue or a delivery that did not land — not once per tick.
    private readonly Dictionary<(string Namespace, string Name), string> _delivered = [];

    public string Name => "lease keeper";

    public async Task RunAsync(CancellationToken leading)
    {
        _delivered.Clear(); // another leader may have written the Secrets since this replica last led
        while (!leading.IsCancellationRequested)
        {
            try
            {
                await PassAsync(leading);
            }
            catch (Exception e) when (!leading.IsCancellationRequested && e is ClusterApiException or ManagedSecretException)
            {
                LogPassFailed(log, e.Message);
            }
            await Task.Delay(settings.Tick, time, leading);
        }
    }

    /// <summary>One pass; returns what it did, for tests and the bench.</summary>
    public async Task<LeasePassResult> PassAsync(CancellationToken cancellationToken)
    {
        var result = new LeasePassResult();
        var pods = new Dictionary<string, IList<V1Pod>>(StringComparer.Ordinal);
        var listed = await records.ListAsync(cancellationToken);
        foreach (var gone in _delivered.Keys.Except(listed.Select(r => (r.Namespace, r.SecretName))).ToList())
            _delivered.Remove(gone);
        foreach (var record in listed)
        {
            if (!pods.TryGetValue(record.Namespace, out var all))
                pods[record.Namespace] = all = await cluster.ListPodsAsync(record.Namespace, cancellationToken);
            var users = all.Where(p => p.Metadata.Annotations?.TryGetValue(AnnotationKeys.ManagedSecret, out var name) == true && name == record.SecretName).ToList();
            await KeepAsync(record, users, result, cancellationToken);
        }
        metrics.SetLeases(result.Leases);
        return result;
    }

    private async Task KeepAsync(LeaseRecord record, List<V1Pod> users, LeasePassResult result, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var owner = new Subject(record.Namespace, record.ServiceAccount);
        if (users.Count == 0 && now - record.Created > settings.AdoptionGracePeriod)
        {
            await RetireAsync(record, owner, result, cancellationToken);
            return;
        }
        var leases = new Dictionary<SecretLocation, LeasedCredential>(record.Leases);
        var issuedNow = new List<(SecretLocation Location, Lease Lease)>();
        var changed = false;
        foreach (var (location, held) in record.Leases)
        {
            var current = held;
            var step = held.Lease.Next(now);
            if (step == LeaseStep.Renew)
            {
                var renewed = await limiter.RunAsync(location.Backend, () => issuers.RenewAsync(location.Backend, held.Lease, owner, cancellationToken), cancellationToken);
                result.Renewed += renewed.Outcome == LeaseOutcome.Done ? 1 : 0;
                if (renewed.Lease is not null)
                    current = held with { Lease = renewed.Lease };
                else if (renewed.Outcome == LeaseOutcome.Gone)
                    step = LeaseStep.Expired;
                else
                    LogRenewFailed(log, record.Namespace, record.SecretName, location.ToString(), renewed.Reason ?? "");
            }
            if (step is LeaseStep.Reissue or LeaseStep.Expired)
            {
                var issued = await limiter.RunAsync(location.Backend, () => issuers.IssueAsync(location, owner, cancellationToken), cancellationToken);
                if (issued.Lease is null || issued.Read.Document is null)
                {
                    LogReissueFailed(log, record.Namespace, record.SecretName, location.ToString(), issued.Read.Reason ?? "");
                    continue;
                }
                result.Reissued++;
                issuedNow.Add((location, issued.Lease));
                current = new LeasedCredential(location, issued.Read.Document, issued.Lease, step == LeaseStep.Expired ? held.Previous : held.Lease);
                LogReissued(log, record.Namespace, record.SecretName, location.ToString(), issued.Lease.ToString());
            }
            // The replaced lease goes once no pod started before the new credential is left (creation times are whole seconds).
            if (current.Previous is { } previous && users.All(p => p.Metadata.CreationTimestamp is { } created && created > current.Issued.UtcDateTime.AddSeconds(1)))
            {
                var revoked = await limiter.RunAsync(location.Backend, () => issuers.RevokeAsync(location.Backend, previous, owner, cancellationToken), cancellationToken);
                if (revoked.Outcome == LeaseOutcome.Failed)
                {
                    // Kept in the record: dropped now, the old credential would work on until its max TTL.
                    LogRevokeFailed(log, record.Namespace, record.SecretName, location.ToString(), revoked.Reason ?? "");
                }
                else
                {
                    result.Revoked++;
                    current = current with { Previous = null };
                }
            }
            changed |= current != held;
            leases[location] = current;
        }
        var saved = record with { Leases = leases };
        result.Count(saved, now);
        if (changed && !await records.TrySaveAsync(saved, cancellationToken))
        {
            // Written since the list (an admission replaced an ended lease): what this pass issued is in no record, so
            // nothing would ever revoke it; the next pass works from the record as it is now.
            foreach (var (location, lease) in issuedNow)
            {
                var revoked = await limiter.RunAsync(location.Backend, () => issuers.RevokeAsync(location.Backend, lease, owner, cancellationToken), cancellationToken);
                if (revoked.Outcome == LeaseOutcome.Failed)
                    LogRevokeFailed(log, record.Namespace, record.SecretName, location.ToString(), revoked.Reason ?? "");
            }
            return;
        }
        if (_delivered.GetValueOrDefault((saved.Namespace, saved.SecretName)) != Delivery(saved))
            await DeliverAsync(saved, result, cancellationToken);
    }

    private static string Delivery(LeaseRecord record) => string.Join(",", record.Leases.Values.Select(l => l.Document.Version).Order(StringComparer.Ordinal));

    /// <summary>
    /// Writes each lease's credential into the managed Secret where it holds another one, with a restart due for env
    /// consumers. The record is read again after the Secret (<see cref="LeaseDelivery"/>): an admission may have
    /// replaced an expired lease and delivered it since this pass listed the records.
    /// </summary>
    private async Task DeliverAsync(LeaseRecord listed, LeasePassResult result, CancellationToken cancellationToken)
    {
        V1Secret secret;
        try
        {
            secret = await cluster.ReadSecretAsync(listed.Namespace, listed.SecretName, cancellationToken);
        }
        catch (ClusterApiException e) when (e.IsNotFound)
        {
            return;
        }
        var keys = await signingKey.GetAsync(cancellationToken);
        if (!ManagedSecretFactory.IsAuthentic(secret, keys) || await records.FindAsync(listed.Namespace, listed.SecretName, cancellationToken) is not { } record)
            return;
        var changes = LeaseDelivery.Apply(secret, record, time.GetUtcNow(), keys);
        if (changes.Count == 0)
        {
            _delivered[(record.Namespace, record.SecretName)] = Delivery(record);
            return;
        }
        try
        {
            await cluster.ReplaceSecretAsync(secret, cancellationToken);
            _delivered[(record.Namespace, record.SecretName)] = Delivery(record);
            result.Delivered++;
            await cluster.RecordEventAsync(ObjectReferences.Of("v1", "Secret", secret.Metadata), "Normal", "Rotated", $"new dynamic credentials: {string.Join(", ", changes)}", cancellationToken);
        }
        catch (ClusterApiException e) when (e.IsConflict || e.IsNotFound)
        {
            // Written or gone since the read: the next pass delivers again.
        }
    }

    /// <summary>Revokes every lease of a record no pod uses any more, deletes its Secret (its credentials are dead) and the record.</summary>
    private async Task RetireAsync(LeaseRecord record, Subject owner, LeasePassResult result, CancellationToken cancellationToken)
    {
        foreach (var (location, held) in record.Leases)
        {
            foreach (var lease in new[] { held.Lease, held.Previous }.OfType<Lease>())
            {
                var revoked = await limiter.RunAsync(location.Backend, () => issuers.RevokeAsync(location.Backend, lease, owner, cancellationToken), cancellationToken);
                if (revoked.Outcome == LeaseOutcome.Failed)
                {
                    foreach (var (pending, credential) in record.Leases)
                        result.Count(pending.Backend, LeasePassResult.RevokePending, credential.Previous is null ? 1 : 2);
                    LogRevokeFailed(log, record.Namespace, record.SecretName, location.ToString(), revoked.Reason ?? "");
                    return;
                }
                result.Revoked++;
            }
        }
        try
        {
            // Kept, it would hand dead credentials to the next pod: admission keeps an existing Secret's values.
            var secret = await cluster.ReadSecretAsync(record.Namespace, record.SecretName, cancellationToken);
            if (ManagedSecretFactory.IsAuthentic(secret, await signingKey.GetAsync(cancellationToken)))
                await cluster.DeleteSecretAsync(secret, cancellationToken);
        }
        catch (ClusterApiException e) when (e.IsNotFound || e.IsConflict)
        {
        }
        await records.DeleteAsync(record, cancellationToken);
        result.Retired++;
        LogRetired(log, record.Namespace, record.SecretName);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "managed Secret {Namespace}/{Name}: {Location} re-issued as {Lease}")]
    private static partial void LogReissued(ILogger logger, string @namespace, string name, string location, string lease);

    [LoggerMessage(Level = LogLevel.Warning, Message = "managed Secret {Namespace}/{Name}: {Location} not renewed: {Reason}")]
    private static partial void LogRenewFailed(ILogger logger, string @namespace, string name, string location, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "managed Secret {Namespace}/{Name}: {Location} not re-issued: {Reason}")]
    private static partial void LogReissueFailed(ILogger logger, string @namespace, string name, string location, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "managed Secret {Namespace}/{Name}: {Location} not revoked, retried next pass: {Reason}")]
    private static partial void LogRevokeFailed(ILogger logger, string @namespace, string name, string location, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "managed Secret {Namespace}/{Name}: no pod uses it; its leases were revoked")]
    private static partial void LogRetired(ILogger logger, string @namespace, string name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "lease pass failed, retried next tick: {Reason}")]
    private static partial void LogPassFailed(ILogger logger, string reason);
}

/// <summary>What one <see cref="LeaseKeeper"/> pass did.</summary>
internal sealed class LeasePassResult
{
    public int Renewed { get; set; }
    public int Reissued { get; set; }
    public int Revoked { get; set; }
    public int Delivered { get; set; }
    public int Retired { get; set; }

    /// <summary>The lease works: its credential is the managed Secret's and has not ended.</summary>
    public const string Active = "active";

    /// <summary>The lease ended unrenewed and no new credential could be issued: the Secret holds a dead credential.</summary>
    public const string Expired = "expired";

    /// <summary>A lease replaced (waiting for the rollout) or of a workload gone, whose revocation has not happened yet.</summary>
    public const string RevokePending = "revoke_pending";

    /// <summary>Leases by backend and state after the pass, for <c>configinjector_leases</c>.</summary>
    public Dictionary<(string Backend, string State), int> Leases { get; } = [];

    public void Count(string backend, string state, int leases = 1) =>
        Leases[(backend, state)] = Leases.GetValueOrDefault((backend, state)) + leases;

    /// <summary>Counts what a kept record holds as the pass leaves it.</summary>
    public void Count(LeaseRecord record, DateTimeOffset now)
    {
        foreach (var (location, credential) in record.Leases)
        {
            Count(location.Backend, credential.Lease.ExpiresAt > now ? Active : Expired);
            if (credential.Previous is { } previous && previous.ExpiresAt > now)
                Count(location.Backend, RevokePending);
        }
    }
}
