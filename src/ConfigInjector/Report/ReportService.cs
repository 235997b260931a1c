using ConfigInjector.Backends;
using ConfigInjector.Core.Planning;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Report;
using ConfigInjector.Core.Secrets;
using ConfigInjector.ManagedSecrets;

namespace ConfigInjector.Report;

/// <summary>
/// The blast radius of a ref pattern now: what the cluster runs (through <see cref="IReportCluster"/>) against the
/// latest version each backend holds. A backend this process cannot read is said so in the notes, and its refs are
/// compared with the version their managed Secret holds instead. A managed Secret's versions count only where the
/// injector's signature covers them (anyone who may edit the Secret could write others); a pod's own annotation is
/// the pod's claim and is shown as such (its owner can edit it). A backend with <c>identity: pod</c> is read as the
/// service account a signed managed Secret holding the ref records, as the sync worker reads it. A dynamic ref is never
/// read (nor issued): each pod's lease comes from its managed Secret's lease record, with its expiry as of
/// <paramref name="time"/>.
/// </summary>
internal sealed class ReportService(IReportCluster cluster, SecretReader reader, IReadOnlySet<string> configuredBackends, ISigningKey signingKey, TimeProvider time)
{
    public async Task<BlastRadiusReport> BuildAsync(RefPattern pattern, string? namespaceName, IReadOnlyList<SecretPolicy> policies, CancellationToken cancellationToken)
    {
        var objects = await cluster.ReadAsync(namespaceName, cancellationToken);
        var notes = new List<string>();
        IReadOnlyList<k8s.Models.V1Secret> signed;
        try
        {
            var keys = await signingKey.GetAsync(cancellationToken);
            signed = [.. objects.ManagedSecrets.Where(s => ManagedSecretSignature.CoversVersions(ManagedSecretSignature.Verify(keys, s)))];
            if (signed.Count < objects.ManagedSecrets.Count)
                notes.Add($"{objects.ManagedSecrets.Count - signed.Count} labelled Secret(s) not signed by this install (or signed before versions were): their versions are not used");
        }
        catch (ManagedSecretException e)
        {
            signed = [];
            notes.Add($"the install's signing key could not be read ({e.Message}): no managed Secret's versions are used");
        }
        var readAs = ReadersOf(signed);
        var latest = new Dictionary<SecretLocation, string>();
        using var parallel = new SemaphoreSlim(8);
        var all = BlastRadius.Locations(pattern, objects.Pods);
        var leases = all.Count == 0 ? new LeaseRecordsRead([]) : await cluster.ReadLeaseRecordsAsync(cancellationToken);
        var dynamic = DynamicOf(all, policies, leases.Records);
        if (leases.Problem is not null && dynamic.Count > 0)
            notes.Add($"lease records not readable ({leases.Problem}): lease expiries of dynamic refs are not shown");
        var locations = all.Where(l => !dynamic.Contains(l)).ToList();
        var reads = await Task.WhenAll(locations.Select(async location =>
        {
            if (!configuredBackends.Contains(location.Backend))
                return (location, (SecretRead?)null);
            await parallel.WaitAsync(cancellationToken);
            try
            {
                return (location, await reader.ReadAsync(reader.KeyFor(location, readAs.GetValueOrDefault(location)), cancellationToken));
            }
            finally
            {
                parallel.Release();
            }
        }));
        foreach (var (location, read) in reads.OrderBy(r => r.location.ToString(), StringComparer.Ordinal))
        {
            if (read?.Status == ReadStatus.Found)
                latest[location] = read.Document!.Version;
            else if (read is null)
                notes.Add($"{location}: backend \"{location.Backend}\" is not configured here; compared with the version its managed Secret holds");
            else
                notes.Add($"{location}: {(read.Status == ReadStatus.NotFound ? "not found" : "backend error")}: {read.Reason}; compared with the version its managed Secret holds");
        }
        var snapshot = new ClusterSnapshot(objects.Pods, signed, objects.ControllersByUid, objects.RollingOut, policies, latest)
        {
            Terminating = objects.Pods.Where(p => p.Metadata?.DeletionTimestamp is not null).Select(p => (p.Metadata.NamespaceProperty, p.Metadata.Name)).ToHashSet(),
            Dynamic = dynamic,
            // DistinctBy: a record is named by a digest of whose it is; two claiming one Secret must not fail the report.
            Leases = leases.Records?.DistinctBy(r => (r.Namespace, r.SecretName)).ToDictionary(r => (r.Namespace, r.SecretName),
                r => (IReadOnlyDictionary<SecretLocation, HeldLease>)r.Leases.ToDictionary(l => l.Key, l => new HeldLease(l.Value.Lease, l.Value.Previous))),
            Now = time.GetUtcNow(),
        };
        return BlastRadius.Build(pattern, snapshot) with { Notes = notes };
    }

    /// <summary>
    /// The locations never read from their backend: those a <c>dynamic: true</c> rule covers (what admission and the
    /// rotation pass decide by, readable whatever the caller's rights) and those a lease record holds (issued, even if the
    /// rule was edited since).
    /// </summary>
    private static HashSet<SecretLocation> DynamicOf(IReadOnlyList<SecretLocation> locations, IReadOnlyList<SecretPolicy> policies, IReadOnlyList<LeaseRecord>? records)
    {
        var recorded = (records ?? []).SelectMany(r => r.Leases.Keys).ToHashSet();
        return [.. locations.Where(l => recorded.Contains(l) || DynamicLocations.MarkedByPolicy(policies, l))];
    }

    /// <summary>For each location, a service account that reads it: the one the first signed managed Secret holding it records.</summary>
    private static Dictionary<SecretLocation, Subject> ReadersOf(IEnumerable<k8s.Models.V1Secret> signed)
    {
        var readers = new Dictionary<SecretLocation, Subject>();
        foreach (var secret in signed)
        {
            foreach (var source in ManagedSecretFactory.ReadSources(secret)?.Values ?? [])
            {
                if (ReferenceParser.Parse(source.Ref) is { IsOk: true } parsed)
                    readers.TryAdd(parsed.Value!.Location, Sync.ReadIdentity.Of(secret));
            }
        }
        return readers;
    }
}
