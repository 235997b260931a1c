using System.Collections.Concurrent;
using ConfigInjector.Core.Annotations;
using ConfigInjector.Policies;
using k8s;

namespace ConfigInjector.Kubernetes;

/// <summary>Reads a namespace's <c>configinjector.io/injection=enabled</c> label, cached briefly so admissions do not each call the API.</summary>
internal sealed partial class NamespaceLabelOptIn(IKubernetes client, KubernetesTimings timings, TimeProvider time, ILogger<NamespaceLabelOptIn> log) : INamespaceOptIn
{
    private readonly ConcurrentDictionary<string, (bool OptedIn, DateTimeOffset At)> _cache = new();

    public async ValueTask<bool> IsOptedInAsync(string namespaceName, CancellationToken cancellationToken)
    {
        if (_cache.TryGetValue(namespaceName, out var cached) && time.GetUtcNow() - cached.At < timings.NamespaceLabelTtl)
            return cached.OptedIn;
        try
        {
            var ns = await client.CoreV1.ReadNamespaceAsync(namespaceName, cancellationToken: cancellationToken);
            var optedIn = ns.Metadata?.Labels?.TryGetValue(AnnotationKeys.NamespaceInjectionLabel, out var value) == true && value == "enabled";
            _cache[namespaceName] = (optedIn, time.GetUtcNow());
            return optedIn;
        }
        catch (Exception e) when (e is k8s.Autorest.HttpOperationException or HttpRequestException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // Without the label we cannot tell; the pod's own annotation still opts it in, and nothing else is blocked.
            LogUnreadable(log, KubernetesErrors.Describe(e, "get", "namespaces", null));
            _cache[namespaceName] = (cached.OptedIn, time.GetUtcNow() - timings.NamespaceLabelTtl + timings.NamespaceRetryAfterFailure);
            return cached.OptedIn;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "namespace labels not readable: {Reason}")]
    private static partial void LogUnreadable(ILogger logger, string reason);
}
