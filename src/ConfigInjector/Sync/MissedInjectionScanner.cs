using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Planning;
using ConfigInjector.Observability;
using ConfigInjector.Policies;

namespace ConfigInjector.Sync;

/// <summary>
/// Finds pods that opted in (annotation or namespace label) but carry no <c>configinjector.io/injected</c> marker —
/// admitted while the webhook was down under <c>failurePolicy: Ignore</c>, or created before their policy — and
/// reports each once with an Event on the pod and a metric, so nothing escapes silently.
/// </summary>
internal sealed partial class MissedInjectionScanner(ISyncCluster cluster, INamespaceOptIn namespaces, InjectorMetrics metrics, ILogger<MissedInjectionScanner> log)
{
    private readonly HashSet<string> _reported = [];

    public async Task<int> ScanAsync(CancellationToken cancellationToken)
    {
        var missed = 0;
        var stillMissed = new HashSet<string>(StringComparer.Ordinal);
        string? next = null;
        do
        {
            var page = await cluster.ListAllPodsAsync(next, 500, cancellationToken);
            foreach (var pod in page.Items)
            {
                if (pod.Status?.Phase is "Succeeded" or "Failed" || pod.Metadata.DeletionTimestamp is not null)
                    continue;
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
        return missed;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "pod {Namespace}/{Name} opted in but was not injected")]
    private static partial void LogMissed(ILogger logger, string @namespace, string name);
}
