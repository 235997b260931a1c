using ConfigInjector.Backends;
using ConfigInjector.Core.Planning;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;
using ConfigInjector.ManagedSecrets;

namespace ConfigInjector.Admission;

/// <summary>
/// Dynamic refs at admission (paths a SecretPolicy rule marks <c>dynamic: true</c>): one lease per managed Secret and
/// path — the pods of one ReplicaSet share it, so the second replica reuses what the first was issued — every key of a
/// path from that one credential, and nothing issued for a dry run. The lease goes to a <see cref="LeaseRecord"/>
/// before the managed Secret is written, so nothing is issued that the worker does not know about.
/// </summary>
internal sealed partial class DynamicCredentials(LeaseIssuers issuers, ILeaseRecords records, ILeaseDeliverer deliverer, TimeProvider time, ILogger<DynamicCredentials> log)
{
    /// <summary>A lease with less than this left is not handed to a new pod: the worker is about to replace it.</summary>
    public static readonly TimeSpan MinRemaining = TimeSpan.FromMinutes(1);

    /// <summary>What a stand-in read carries before credentials are issued (and in a dry run): never a value.</summary>
    public const string PendingVersion = "dynamic";

    private const string NoStale = "dynamic credentials belong to one managed Secret and are never reused from another, so onBackendError: allow-stale acts as deny for them";

    /// <summary>Whether credentials are issued here at all: only where a sync worker renews and revokes their leases.</summary>
    public bool Issues => records.Kept;

    /// <summary>Why a run with no sync worker (inject, serve without a cluster) issues nothing for these refs.</summary>
    public static string NotIssuedHere(PreparedInjection prepared, IReadOnlySet<SecretLocation> dynamic) =>
        string.Join(", ", prepared.Decisions.Keys.Concat(prepared.PathDecisions.Keys).Where(r => dynamic.Contains(r.Location)).Select(r => r.ToString()).Distinct().Order(StringComparer.Ordinal))
        + ": dynamic refs are issued only in a cluster, where the sync worker renews and revokes their leases; without one (inject, serve with no kubeconfig) nothing would ever revoke them";

    /// <summary>The locations the policies allowed as dynamic.</summary>
    public static HashSet<SecretLocation> Locations(PreparedInjection prepared) =>
        [.. prepared.Decisions.Values.Concat(prepared.PathDecisions.Values).Where(d => d.Allowed && d.Dynamic).Select(d => d.Ref.Location)];

    /// <summary>Why the pod asks for a dynamic path in a way not supported (a whole path, a template), or null.</summary>
    public static string? Unsupported(PreparedInjection prepared, IReadOnlySet<SecretLocation> dynamic)
    {
        if (prepared.PathDecisions.Keys.FirstOrDefault(r => dynamic.Contains(r.Location)) is { } whole)
            return $"{whole}: a dynamic path is delivered key by key (e.g. secret.DB_USER: {whole}#username), not as secrets-from or file-from";
        if (prepared.Request.Composed.SelectMany(c => c.Refs).FirstOrDefault(r => dynamic.Contains(r.Location)) is { } templated)
            return $"{templated}: dynamic credentials cannot be used in templates; deliver each key with secret. or file.";
        return null;
    }

    /// <summary>Stand-ins with the keys the pod asks for and empty values: enough to plan (and name) the managed Secret.</summary>
    public static Dictionary<SecretLocation, SecretRead> Pending(PreparedInjection prepared, IReadOnlySet<SecretLocation> dynamic) =>
        prepared.Decisions.Keys.Where(r => dynamic.Contains(r.Location) && r.Key is not null).GroupBy(r => r.Location)
            .ToDictionary(g => g.Key, g => SecretRead.Found(g.Key, new SecretDocument(PendingVersion, g.Select(r => r.Key!).Distinct().ToDictionary(k => k, _ => "", StringComparer.Ordinal))));

    /// <summary>
    /// The credentials of <paramref name="secret"/>'s dynamic paths: the live ones its record holds, else newly issued
    /// (as the pod's service account under <c>identity: pod</c>) and recorded. A failure is a read without a
    /// last-known-good, whatever the policy says.
    /// </summary>
    public async Task<Dictionary<SecretLocation, SecretRead>> ObtainAsync(Subject pod, ManagedSecretSpec secret, IReadOnlySet<SecretLocation> dynamic, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var record = await records.FindAsync(secret.Namespace, secret.Name, cancellationToken);
            var now = time.GetUtcNow();
            var reads = new Dictionary<SecretLocation, SecretRead>();
            var leases = new Dictionary<SecretLocation, LeasedCredential>(record?.Leases ?? new Dictionary<SecretLocation, LeasedCredential>());
            var issued = new List<(SecretLocation Location, Lease Lease)>();
            foreach (var location in dynamic)
            {
                if (leases.TryGetValue(location, out var held) && held.Lease.ExpiresAt - now > MinRemaining)
                {
                    reads[location] = SecretRead.Found(location, held.Document);
                    continue;
                }
                var fresh = await issuers.IssueAsync(location, pod, cancellationToken);
                if (fresh.Lease is null || fresh.Read.Document is null)
                {
                    reads[location] = fresh.Read.Status == ReadStatus.Failed ? SecretRead.Failed(location, $"{fresh.Read.Reason} ({NoStale})") : fresh.Read;
                    continue;
                }
                issued.Add((location, fresh.Lease));
                // A lease still running is kept as the one replaced: the worker revokes it once no pod holds it.
                leases[location] = new LeasedCredential(location, fresh.Read.Document, fresh.Lease, held is not null && held.Lease.ExpiresAt > now ? held.Lease : held?.Previous);
                reads[location] = fresh.Read;
            }
            if (issued.Count == 0)
                return reads;
            var saved = record is null
                ? new LeaseRecord(secret.Namespace, secret.Name, pod.ServiceAccount, now, leases)
                : record with { Leases = leases };
            if (await records.TrySaveAsync(saved, cancellationToken))
            {
                foreach (var (location, lease) in issued)
                    LogIssued(log, secret.Namespace, secret.Name, location.ToString(), lease.ToString());
                return await DeliveredAsync(secret, reads, cancellationToken);
            }
            // Another replica recorded a lease for the same Secret first: ours is revoked and theirs is used.
            foreach (var (location, lease) in issued)
                await issuers.RevokeAsync(location.Backend, lease, pod, cancellationToken);
            if (attempt == 3)
                return dynamic.ToDictionary(l => l, l => SecretRead.Failed(l, $"the lease record of {secret.Namespace}/{secret.Name} kept changing; try again ({NoStale})"));
        }
    }

    /// <summary>
    /// The new credentials written into the managed Secret if it exists already: its lease had ended (or was about to),
    /// and an admission's own write keeps an existing Secret's data, so without this the new pod would start with the
    /// dead credential. A Secret that cannot be written fails the reads: the pod must not start with it.
    /// </summary>
    private async Task<Dictionary<SecretLocation, SecretRead>> DeliveredAsync(ManagedSecretSpec secret, Dictionary<SecretLocation, SecretRead> reads, CancellationToken cancellationToken)
    {
        try
        {
            await deliverer.DeliverAsync(secret.Namespace, secret.Name, cancellationToken);
            return reads;
        }
        catch (ManagedSecretException e)
        {
            return reads.ToDictionary(r => r.Key, r => r.Value.Status == ReadStatus.Found
                ? SecretRead.Failed(r.Key, $"managed Secret {secret.Namespace}/{secret.Name} holds an ended credential and the new one could not be written: {e.Message} ({NoStale})")
                : r.Value);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "managed Secret {Namespace}/{Name}: issued {Location} with {Lease}")]
    private static partial void LogIssued(ILogger logger, string @namespace, string name, string location, string lease);
}
