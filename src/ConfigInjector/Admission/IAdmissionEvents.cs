using ConfigInjector.Kubernetes;
using k8s.Models;

namespace ConfigInjector.Admission;

/// <summary>What admission records beyond its answer: refs skipped under <c>onBackendError: skip</c> (DESIGN.md §4).</summary>
public interface IAdmissionEvents
{
    void Skipped(AdmissionInput input, IReadOnlyList<string> skipped);
}

/// <summary>Out of a cluster there is nowhere to put an Event: the log line is the record.</summary>
public sealed partial class LoggedAdmissionEvents(ILogger<LoggedAdmissionEvents> log) : IAdmissionEvents
{
    public void Skipped(AdmissionInput input, IReadOnlyList<string> skipped) =>
        LogSkipped(log, input.Namespace, input.Pod.Metadata?.Name ?? input.Pod.Metadata?.GenerateName ?? "", string.Join("; ", skipped));

    [LoggerMessage(Level = LogLevel.Warning, Message = "pod {Namespace}/{Pod} admitted without refs whose backend failed (onBackendError: skip): {Skipped}")]
    private static partial void LogSkipped(ILogger logger, string @namespace, string pod, string skipped);
}

/// <summary>
/// In a cluster, a Warning Event on the pod's controller (the pod itself has no UID yet at admission), written in
/// the background so the API server's call does not wait for it.
/// </summary>
public sealed class ClusterAdmissionEvents(EventRecorder events, LoggedAdmissionEvents log) : IAdmissionEvents
{
    public void Skipped(AdmissionInput input, IReadOnlyList<string> skipped)
    {
        log.Skipped(input, skipped);
        var owner = input.Pod.Metadata?.OwnerReferences?.FirstOrDefault(o => o.Controller == true);
        var involved = owner is not null
            ? new V1ObjectReference { ApiVersion = owner.ApiVersion, Kind = owner.Kind, Name = owner.Name, Uid = owner.Uid, NamespaceProperty = input.Namespace }
            : new V1ObjectReference { ApiVersion = "v1", Kind = "Pod", Name = input.Pod.Metadata?.Name ?? input.Pod.Metadata?.GenerateName, NamespaceProperty = input.Namespace };
        _ = events.RecordAsync(involved, "Warning", "SecretSkipped",
            $"a pod was admitted without {string.Join("; ", skipped)} (backend error, onBackendError: skip)", CancellationToken.None);
    }
}
