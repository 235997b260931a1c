using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Planning;
using ConfigInjector.Core.Report;
using ConfigInjector.Observability;
using ConfigInjector.Policies;
using k8s.Models;

namespace ConfigInjector.Sync;

/// <summary>
/// Finds pods that opted in (annotation or namespace label) but carry no <c>configinjector.io/injected</c> marker —
/// admitted while the webhook was down under <c>failurePolicy: Ignore</c>, or created before their policy — and
/// reports each once with an Event on the pod and a metric, so nothing escapes silently. The same walk over the pods
/// counts, per namespace, the pods that hold an older version of a ref than their managed Secret (an env var keeps
/// its value until the pod restarts): <c>configinjector_pods_on_stale_version</c>.
/// </summary>
internal sealed partial class MissedInjectionScanner(ISyncCluster cluster, INamespaceOptIn namespaces, InjectorMetrics metrics, ILogger<MissedInjectionScanner> log)
{
    private readonly HashSet<string> _reported = [];
    private readonly HashSet<string> _staleNamespaces = new(StringComparer.Ordinal);

    /// <param name="managedSecrets">The managed Secrets the worker knows (its informer's): the versions pods are compared with.</param>
    public async Task<int> ScanAsync(IReadOnlyCollection<V1Secret> managedSecrets, CancellationToken cancellationToken)
    {
        var missed = 0;
        var injected = new List<V1Pod>();
        var stillMissed = new HashSet<string>(StringComparer.Ordinal);
        string? next = null;
        do
        {
            var page = await cluster.ListAllPodsAsync(next, 500, cancellationToken);
            foreach (var pod in page.Items)
            {
                if (pod.Status?.Phase is "Succeeded" or "Failed" || pod.Metadata.DeletionTimestamp is not null)
                    continue;
                if (pod.Metadata.Annotations?.ContainsKey(AnnotationKeys.Injected) == true)
                {
                    injected.Add(pod);
                    continue;
                }
                var request = AnnotationParser.Parse(pod.Metadata.Annotations?.AsReadOnly()).Request;
                if (!OptInRules.ShouldInject(request, await namespaces.IsOptedInAsync(pod.Metadata.NamespaceProperty, cancellationToken)))
                    continue;
                missed++;
                var id = pod.Metadata.Uid ?? $"{pod.Metadata.NamespaceProperty}/{pod.Metadata.Name}";
                stillMissed.Add(id);
                if (!_reported.Add(id))
                    continue;
                metrics.MissedInjections.Inc();
                LogMissed(log, pod.Metadata.NamespaceProperty, pod.Metadata.Name);
                await cluster.RecordEventAsync(ObjectReferences.Of("v1", "Pod", pod.Metadata), "Warning", "NotInjected",
                    "this pod opted in to ConfigInjector but was admitted without injection (webhook unavailable, or the pod predates its policy); recreate it",
                    cancellationToken);
            }
            next = page.Continue;
        }
        while (!string.IsNullOrEmpty(next));
        // Pods that are gone (or were fixed) need no memory: the set stays as large as the current problem.
        _reported.IntersectWith(stillMissed);
        metrics.MissedInjectionsNow.Set(missed);
        CountStale(injected, managedSecrets);
        return missed;
    }

    private void CountStale(List<V1Pod> pods, IReadOnlyCollection<V1Secret> managedSecrets)
    {
        var snapshot = new ClusterSnapshot(pods, [.. managedSecrets], new Dictionary<string, PodController>(), new HashSet<(string, string, string)>(), [], new Dictionary<Core.References.SecretLocation, string>());
        var byNamespace = BlastRadius.Build(RefPattern.Any, snapshot).ByNamespace();
        // A namespace with no stale pod left reads 0 (not a missing series) until it has no injected pod at all.
        foreach (var gone in _staleNamespaces.Where(n => !byNamespace.ContainsKey(n)).ToList())
        {
            metrics.PodsOnStaleVersion.RemoveLabelled(gone);
            _staleNamespaces.Remove(gone);
        }
        foreach (var (ns, counts) in byNamespace)
        {
            metrics.PodsOnStaleVersion.WithLabels(ns).Set(counts.Stale);
            _staleNamespaces.Add(ns);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "pod {Namespace}/{Name} opted in but was not injected")]
    private static partial void LogMissed(ILogger logger, string @namespace, string name);
}
