using ConfigInjector.Admission;
using k8s.Models;

namespace ConfigInjector.Kubernetes;

/// <summary>
/// In a cluster, Warning Events on the pod's controller (the pod itself has no UID yet at admission), written in the
/// background by <see cref="AdmissionEventWriter"/> so the API server's call does not wait for them. Warnings and
/// denials are recorded only for a pod a controller creates: for a bare pod, kubectl has already shown them.
/// </summary>
internal sealed class ClusterAdmissionEvents(AdmissionEventWriter writer, LoggedAdmissionEvents log) : IAdmissionEvents
{
    public void Skipped(AdmissionInput input, IReadOnlyList<string> skipped)
    {
        log.Skipped(input, skipped);
        var involved = input.Controller is { } owner
            ? Reference(owner, input.Namespace)
            : new V1ObjectReference { ApiVersion = "v1", Kind = "Pod", Name = input.PodName, NamespaceProperty = input.Namespace };
        writer.Record(involved, AdmissionEventReasons.SecretSkipped, $"a pod was admitted without {string.Join("; ", skipped)} (backend error, onBackendError: skip)");
    }

    public void Answered(AdmissionInput input, AdmissionVerdict verdict)
    {
        if (input.Controller is not { } owner)
            return;
        var involved = Reference(owner, input.Namespace);
        if (!verdict.Allowed)
            writer.Record(involved, AdmissionEventReasons.InjectionDenied, $"a pod of this {owner.Kind} was denied: {Unprefixed(verdict.Message)}");
        if (verdict.Warnings.Count > 0)
            writer.Record(involved, AdmissionEventReasons.InjectionWarning, $"admission warnings for a pod of this {owner.Kind}: {string.Join("; ", verdict.Warnings)}");
    }

    private static V1ObjectReference Reference(V1OwnerReference owner, string @namespace) =>
        new() { ApiVersion = owner.ApiVersion, Kind = owner.Kind, Name = owner.Name, Uid = owner.Uid, NamespaceProperty = @namespace };

    private static string Unprefixed(string? message) =>
        message?.StartsWith("configinjector: ", StringComparison.Ordinal) == true ? message["configinjector: ".Length..] : message ?? "";
}
