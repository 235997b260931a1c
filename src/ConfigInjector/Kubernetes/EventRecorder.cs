using System.Globalization;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace ConfigInjector.Kubernetes;

/// <summary>Writes core/v1 Events (kubectl describe shows them). Messages name refs and versions, never values.</summary>
internal sealed partial class EventRecorder(IKubernetes client, TimeProvider time, string instance, ILogger<EventRecorder> log)
{
    public const string Component = "config-injector";

    /// <summary>A write that takes longer is given up (and logged): an Event is never worth holding a writer.</summary>
    public static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(10);

    /// <summary>What became of a count update.</summary>
    public enum Update
    {
        Done,
        Failed,

        /// <summary>The Event is no longer there (the API server expires Events, by default an hour after their last write).</summary>
        Gone,
    }

    public async Task RecordAsync(V1ObjectReference involved, string type, string reason, string message, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await CreateAsync(involved, type, reason, message, 1, now, now, cancellationToken);
    }

    /// <summary>Creates an Event that counts <paramref name="count"/> occurrences; returns its name, or null when it could not be written (logged).</summary>
    public async Task<string?> CreateAsync(V1ObjectReference involved, string type, string reason, string message, int count, DateTime first, DateTime last, CancellationToken cancellationToken)
    {
        var item = new Corev1Event
        {
            Metadata = new V1ObjectMeta { GenerateName = $"{involved.Name}.", NamespaceProperty = involved.NamespaceProperty },
            InvolvedObject = involved,
            Type = type,
            Reason = reason,
            Message = Bounded(message),
            Source = new V1EventSource { Component = Component },
            ReportingComponent = Component,
            ReportingInstance = instance,
            FirstTimestamp = first,
            LastTimestamp = last,
            Count = count,
        };
        using var timeout = Timeout(cancellationToken);
        try
        {
            return (await client.CoreV1.CreateNamespacedEventAsync(item, involved.NamespaceProperty, cancellationToken: timeout.Token)).Metadata?.Name;
        }
        catch (Exception e) when (Unwritten(e, cancellationToken))
        {
            LogEventFailed(log, reason, involved.Kind, involved.NamespaceProperty, involved.Name, KubernetesErrors.Describe(e, "create", "events", involved.NamespaceProperty));
            return null;
        }
    }

    /// <summary>Sets an existing Event's count, last time and message (a merge patch, as kubectl's event recorder does).</summary>
    public async Task<Update> UpdateCountAsync(V1ObjectReference involved, string name, string reason, string message, int count, DateTime last, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["count"] = count,
            ["lastTimestamp"] = last.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            ["message"] = Bounded(message),
        };
        using var timeout = Timeout(cancellationToken);
        try
        {
            await client.CoreV1.PatchNamespacedEventAsync(new V1Patch(body.ToJsonString(), V1Patch.PatchType.MergePatch), name, involved.NamespaceProperty, cancellationToken: timeout.Token);
            return Update.Done;
        }
        catch (Exception e) when (KubernetesErrors.IsNotFound(e))
        {
            return Update.Gone;
        }
        catch (Exception e) when (Unwritten(e, cancellationToken))
        {
            LogEventFailed(log, reason, involved.Kind, involved.NamespaceProperty, involved.Name, KubernetesErrors.Describe(e, "patch", "events", involved.NamespaceProperty));
            return Update.Failed;
        }
    }

    private static CancellationTokenSource Timeout(CancellationToken cancellationToken)
    {
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(WriteTimeout);
        return timeout;
    }

    private static string Bounded(string message) => message.Length > 1000 ? message[..1000] : message;

    /// <summary>An API error, an unreachable API server or a write that timed out: an Event is never worth more than a log line.</summary>
    private static bool Unwritten(Exception e, CancellationToken cancellationToken) =>
        e is k8s.Autorest.HttpOperationException or HttpRequestException or IOException
        || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    [LoggerMessage(Level = LogLevel.Warning, Message = "event {Reason} on {Kind} {Namespace}/{Name} not recorded: {Problem}")]
    private static partial void LogEventFailed(ILogger logger, string reason, string kind, string @namespace, string name, string problem);
}
