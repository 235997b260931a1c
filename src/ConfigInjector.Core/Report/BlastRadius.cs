using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Ownership;
using ConfigInjector.Core.Planning;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;
using ConfigInjector.Core.Templates;
using k8s.Models;

namespace ConfigInjector.Core.Report;

/// <summary>
/// Who holds which version of a ref. A pod's own <c>configinjector.io/injected</c> says what it was given; an env var
/// keeps that version until the pod restarts, a file follows the managed Secret (kubelet refreshes it). Compared with
/// the latest version the backend holds (or, when it could not be read, the Secret's), that tells each pod's standing
/// and what would bring it up to date.
/// </summary>
public static class BlastRadius
{
    private static readonly HashSet<string> Restartable = new(StringComparer.Ordinal) { "Deployment", "StatefulSet", "DaemonSet" };

    public static BlastRadiusReport Build(RefPattern pattern, ClusterSnapshot cluster)
    {
        var secrets = cluster.ManagedSecrets
            .Where(s => s.Metadata?.NamespaceProperty is not null && s.Metadata.Name is not null)
            .GroupBy(s => (s.Metadata.NamespaceProperty, s.Metadata.Name))
            .ToDictionary(g => g.Key, g => SecretRefs.Of(g.First()));
        var rows = new List<ReportRow>();
        // Thousands of pods share a few subjects, refs and annotation values: parse and decide each once.
        var policyOf = new Dictionary<(Subject, SecretReference), string?>();
        var parsedEntries = new Dictionary<string, SecretReference?>(StringComparer.Ordinal);
        foreach (var pod in cluster.Pods)
        {
            var ns = pod.Metadata?.NamespaceProperty;
            var annotations = pod.Metadata?.Annotations;
            // A pod that has finished runs nothing any more: it holds no credential (one terminating still does).
            if (ns is null || annotations is null || pod.Status?.Phase is "Succeeded" or "Failed")
                continue;
            var workload = WorkloadOf(pod, cluster.ControllersByUid);
            var subject = new Subject(ns, string.IsNullOrEmpty(pod.Spec?.ServiceAccountName) ? "default" : pod.Spec.ServiceAccountName);
            if (!annotations.TryGetValue(AnnotationKeys.Injected, out var injected))
            {
                rows.AddRange(Escaped(pod, ns, workload, subject, pattern, cluster.Policies));
                continue;
            }
            var secretName = annotations.TryGetValue(AnnotationKeys.ManagedSecret, out var n) ? n : null;
            var secret = secretName is null ? null : secrets.GetValueOrDefault((ns, secretName));
            foreach (var entry in injected.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!parsedEntries.TryGetValue(entry, out var used))
                    parsedEntries[entry] = used = ReferenceParser.Parse(entry) is { IsOk: true } parsed && pattern.Matches(parsed.Value!) ? parsed.Value : null;
                if (used is null)
                    continue;
                var reference = used with { Version = null };
                var held = secret?.Of(reference.ToString());
                var delivery = DeliveryOf(pod, secretName, held?.Keys ?? []);
                var secretVersion = held?.Version;
                var podVersion = delivery == Delivery.File ? secretVersion ?? used.Version : used.Version;
                // A dynamic ref has no one latest version: each managed Secret has its own lease, and its record says which is current.
                var lease = cluster.Dynamic.Contains(reference.Location) ? LeaseOf(cluster, ns, secretName, reference.Location, podVersion) : null;
                // A ref pinned to a version (ref@3) stays there: its latest is the pin, whatever the vault holds since.
                var latest = held?.Pinned == true ? secretVersion
                    : lease is not null ? CurrentLease(cluster, ns, secretName, reference.Location) ?? secretVersion ?? used.Version
                    : cluster.LatestVersions.GetValueOrDefault(reference.Location) ?? secretVersion ?? used.Version;
                var standing = podVersion == latest && lease?.Flagged != true ? PodStanding.Current : PodStanding.Stale;
                // An ended or unrecorded lease is repaired the way an old version is: the pods admitted next are issued new credentials.
                var action = standing == PodStanding.Current ? held?.Pinned == true ? "none (pinned to this version)" : "none"
                    : podVersion == latest && lease?.State == LeaseState.NotRecorded ? "no lease record: nothing renews or revokes this credential, it stops working at its TTL, and new pods are issued recorded ones; " + Remedy(cluster, ns, pod, workload)
                    : podVersion == latest ? "lease expired: not renewed or re-issued by the injector (see the log of its leader), the credential no longer works, and new pods are issued new ones; " + Remedy(cluster, ns, pod, workload)
                    : secretVersion is not null && secretVersion != latest ? "rotation pending: the sync worker has not written the latest version to the Secret yet"
                    : Remedy(cluster, ns, pod, workload);
                rows.Add(new ReportRow(ns, workload.Kind, workload.Name, pod.Metadata!.Name, reference.ToString(), delivery, podVersion, secretVersion, latest,
                    standing, action, policyOf.TryGetValue((subject, reference), out var policy) ? policy : policyOf[(subject, reference)] = PolicyOf(cluster.Policies, subject, reference))
                { Lease = lease });
            }
        }
        rows.Sort(RowOrder);
        var pods = rows.GroupBy(r => (r.Namespace, r.Pod)).Select(g => BlastRadiusReport.Worst(g.Select(r => r.Standing))).ToList();
        var summary = new ReportSummary(pods.Count, pods.Count(p => p == PodStanding.Current), pods.Count(p => p == PodStanding.Stale), pods.Count(p => p == PodStanding.Unknown))
        {
            PodsLeaseEnded = rows.Where(r => r.Lease?.Flagged == true).Select(r => (r.Namespace, r.Pod)).Distinct().Count(),
        };
        return new BlastRadiusReport(pattern.ToString(), rows, summary, []) { GeneratedAt = cluster.Now };
    }

    /// <summary>What puts a pod on the latest version: <see cref="RestartPending"/> is what <c>report --restart</c> acts on.</summary>
    private static string Remedy(ClusterSnapshot cluster, string ns, V1Pod pod, WorkloadRef workload) =>
        cluster.Terminating.Contains((ns, pod.Metadata!.Name)) ? "terminating"
        : cluster.RollingOut.Contains((ns, workload.Kind, workload.Name)) ? "restart in progress"
        : Restartable.Contains(workload.Kind) ? RestartPending
        : "recreate the pod (it has no controller that restarts)";

    /// <summary>The end of a stale row's action when rolling its workload puts it right.</summary>
    public const string RestartPending = "restart pending";

    /// <summary>The lease behind a pod's dynamic ref, from its managed Secret's record.</summary>
    private static PodLease LeaseOf(ClusterSnapshot cluster, string ns, string? secretName, SecretLocation location, string? podVersion) =>
        cluster.Leases is null ? new PodLease(LeaseState.Unread)
        : secretName is not null && cluster.Leases.TryGetValue((ns, secretName), out var leases) && leases.TryGetValue(location, out var held)
            ? PodLease.Of(podVersion, held.Current, held.Previous, cluster.Now)
            : new PodLease(LeaseState.NotRecorded);

    /// <summary>The version (lease fingerprint) a managed Secret's record holds now for a dynamic path, if known.</summary>
    private static string? CurrentLease(ClusterSnapshot cluster, string ns, string? secretName, SecretLocation location) =>
        secretName is not null && cluster.Leases?.GetValueOrDefault((ns, secretName))?.GetValueOrDefault(location) is { } held ? Lease.Fingerprint(held.Current.Id) : null;

    /// <summary>The paths whose latest version the report needs: those of the matching refs the pods were given.</summary>
    public static IReadOnlyList<SecretLocation> Locations(RefPattern pattern, IEnumerable<V1Pod> pods) =>
        [.. pods.Select(p => p.Metadata?.Annotations is { } a && a.TryGetValue(AnnotationKeys.Injected, out var injected) ? injected : null)
            .OfType<string>()
            .SelectMany(i => i.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Distinct(StringComparer.Ordinal)
            .Select(e => ReferenceParser.Parse(e))
            .Where(r => r.IsOk && pattern.Matches(r.Value!))
            .Select(r => new SecretLocation(r.Value!.Backend, r.Value.Path, null))
            .Distinct()];

    /// <summary>A pod that asks for a matching ref but carries no <c>injected</c> marker: the webhook did not see it.</summary>
    private static IEnumerable<ReportRow> Escaped(V1Pod pod, string ns, WorkloadRef workload, Subject subject, RefPattern pattern, IReadOnlyList<SecretPolicy> policies)
    {
        var request = AnnotationParser.Parse(pod.Metadata.Annotations.AsReadOnly()).Request;
        if (request.Inject == OptIn.No)
            yield break;
        // The refs admission would have read for it (annotations and configinjector: env values), as its audit line lists them.
        var asked = InjectionPreparer.RequestedRefs(pod, ns, request, profiles: null)
            .Select(r => ReferenceParser.Parse(r))
            .Where(r => r.IsOk)
            .Select(r => r.Value! with { Version = null })
            .Where(pattern.Matches)
            .Distinct();
        foreach (var reference in asked)
        {
            yield return new ReportRow(ns, workload.Kind, workload.Name, pod.Metadata.Name, reference.ToString(), null, null, null, null,
                PodStanding.Unknown, "escaped injection: recreate the pod once the webhook admits it", PolicyOf(policies, subject, reference));
        }
    }

    /// <summary>
    /// The workload that really controls the pod; a pod whose claim does not hold (no such object with that uid, or a
    /// selector that does not match its labels) is reported as the bare pod it is, so <c>report --restart</c> never
    /// follows a claim to someone else's workload.
    /// </summary>
    private static WorkloadRef WorkloadOf(V1Pod pod, IReadOnlyDictionary<string, PodController> controllers) =>
        PodOwnership.ClaimedController(pod) is { Uid: not null } claim && controllers.TryGetValue(claim.Uid, out var controller)
            && PodOwnership.Controls(controller.Kind, controller.Name, claim.Uid, controller.Selector, pod)
            ? controller.Top
            : new WorkloadRef("Pod", pod.Metadata!.Name);

    private static Delivery DeliveryOf(V1Pod pod, string? secretName, List<string> keys)
    {
        if (secretName is null || keys.Count == 0)
            return Delivery.Plain;
        var containers = (pod.Spec?.Containers ?? []).Concat(pod.Spec?.InitContainers ?? []).Where(c => c is not null);
        var env = containers.SelectMany(c => c.Env ?? []).Any(e => e?.ValueFrom?.SecretKeyRef is { } r && r.Name == secretName && keys.Contains(r.Key));
        var file = (pod.Spec?.Volumes ?? []).Any(v => v?.Secret is { } s && s.SecretName == secretName && (s.Items is null || s.Items.Any(i => keys.Contains(i.Key))));
        return (env, file) switch
        {
            (true, true) => Delivery.EnvAndFile,
            (false, true) => Delivery.File,
            _ => Delivery.Env,
        };
    }

    private static string? PolicyOf(IReadOnlyList<SecretPolicy> policies, Subject subject, SecretReference reference)
    {
        var decision = PolicyEvaluator.Evaluate(policies, subject, reference, pathOnly: reference.Key is null);
        return decision.Allowed ? decision.Policy : null;
    }

    private static int RowOrder(ReportRow a, ReportRow b)
    {
        var order = string.CompareOrdinal(a.Namespace, b.Namespace);
        if (order == 0)
            order = string.CompareOrdinal(a.WorkloadKind, b.WorkloadKind);
        if (order == 0)
            order = string.CompareOrdinal(a.Workload, b.Workload);
        if (order == 0)
            order = string.CompareOrdinal(a.Pod, b.Pod);
        return order != 0 ? order : string.CompareOrdinal(a.Ref, b.Ref);
    }

    /// <summary>
    /// A managed Secret's refs (plain and composed), by the ref without a version pin: which keys carry each, the
    /// version it holds, and whether the pod pinned it (<c>ref@3</c>).
    /// </summary>
    private sealed class SecretRefs
    {
        public sealed record Held(string Version, bool Pinned, List<string> Keys);

        private readonly Dictionary<string, Held> _byRef = new(StringComparer.Ordinal);

        public static SecretRefs Of(V1Secret secret)
        {
            var refs = new SecretRefs();
            foreach (var (key, source) in ManagedSecretFactory.ReadSources(secret) ?? new Dictionary<string, KeySource>().AsReadOnly())
                refs.Add(source.Ref, source.Version, key);
            var composed = secret.Metadata?.Annotations?.TryGetValue(ComposedSources.Annotation, out var json) == true ? ComposedSources.Parse(json) : null;
            foreach (var (key, source) in composed ?? new Dictionary<string, ComposedSource>())
            {
                foreach (var (reference, version) in source.Versions)
                    refs.Add(reference, version, key);
            }
            return refs;
        }

        public Held? Of(string reference) => _byRef.GetValueOrDefault(reference);

        private void Add(string reference, string version, string key)
        {
            var parsed = ReferenceParser.Parse(reference);
            var unpinned = parsed.IsOk ? (parsed.Value! with { Version = null }).ToString() : reference;
            if (_byRef.TryGetValue(unpinned, out var entry))
                entry.Keys.Add(key);
            else
                _byRef[unpinned] = new Held(version, parsed.IsOk && parsed.Value!.Version is not null, [key]);
        }
    }
}
