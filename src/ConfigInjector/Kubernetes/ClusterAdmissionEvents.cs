using ConfigInjector.Admission;
using k8s.Models;

namespace ConfigInjector.Kubernetes;

/// <summary>
/// In a cluster, a Warning Event on the pod's controller (the pod itself has no UID yet at admission), written in
/// the background so the API server's call does not wait for it.
/// </summary>
internal sealed class ClusterAdmissionEvents(EventRecorder events, LoggedAdmissionEvents log) : IAdmissionEvents
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
