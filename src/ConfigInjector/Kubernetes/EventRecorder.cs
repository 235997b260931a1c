using k8s;
using k8s.Models;

namespace ConfigInjector.Kubernetes;

/// <summary>Writes core/v1 Events (kubectl describe shows them). Messages name refs and versions, never values.</summary>
internal sealed partial class EventRecorder(IKubernetes client, TimeProvider time, string instance, ILogger<EventRecorder> log)
{
    public const string Component = "config-injector";

    public async Task RecordAsync(V1ObjectReference involved, string type, string reason, string message, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var item = new Corev1Event
        {
            Metadata = new V1ObjectMeta { GenerateName = $"{involved.Name}.", NamespaceProperty = involved.NamespaceProperty },
            InvolvedObject = involved,
            Type = type,
            Reason = reason,
            Message = message.Length > 1000 ? message[..1000] : message,
            Source = new V1EventSource { Component = Component },
            ReportingComponent = Component,
            ReportingInstance = instance,
            FirstTimestamp = now,
            LastTimestamp = now,
            Count = 1,
        };
        try
        {
            await client.CoreV1.CreateNamespacedEventAsync(item, involved.NamespaceProperty, cancellationToken: cancellationToken);
        }
        catch (k8s.Autorest.HttpOperationException e)
        {
            LogEventFailed(log, reason, involved.Kind, involved.NamespaceProperty, involved.Name, KubernetesErrors.Describe(e, "create", "events", involved.NamespaceProperty));
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "event {Reason} on {Kind} {Namespace}/{Name} not recorded: {Problem}")]
    private static partial void LogEventFailed(ILogger logger, string reason, string kind, string @namespace, string name, string problem);
}
