namespace ConfigInjector.Admission;

/// <summary>The answer to one admission: allowed (with or without a patch) or denied with a one-line message.</summary>
internal sealed record AdmissionVerdict(bool Allowed, byte[]? Patch, IReadOnlyList<string> Warnings, int? Code, string? Message, string Result)
{
    /// <summary>Denied for what only a cluster does (issuing dynamic credentials): an input error to <c>inject</c>, not a policy verdict.</summary>
    public bool NeedsCluster { get; init; }

    public static AdmissionVerdict Pass(IReadOnlyList<string> warnings) => new(true, null, warnings, null, null, "not_injected");

    public static AdmissionVerdict Injected(byte[] patch, IReadOnlyList<string> warnings) => new(true, patch, warnings, null, null, "injected");

    public static AdmissionVerdict Deny(IEnumerable<string> errors, IReadOnlyList<string> warnings) =>
        new(false, null, warnings, 403, OneLine("configinjector: " + string.Join("; ", errors)), "denied");

    public static AdmissionVerdict Failure(string message) => new(false, null, [], 500, OneLine(message), "error");

    public static string OneLine(string text) => text.ReplaceLineEndings(" ");
}

/// <summary>One Pod CREATE that passed the HTTP checks.</summary>
internal sealed record AdmissionInput(string Uid, k8s.Models.V1Pod Pod, string Namespace, bool DryRun, string? User)
{
    /// <summary>The controller creating the pod (a ReplicaSet, Job, StatefulSet…); null for a bare pod, whose creator sees every warning.</summary>
    public k8s.Models.V1OwnerReference? Controller => Pod.Metadata?.OwnerReferences?.FirstOrDefault(o => o.Controller == true);

    /// <summary>The pod's name, or its generateName prefix before the API server names it.</summary>
    public string PodName => Pod.Metadata?.Name ?? Pod.Metadata?.GenerateName ?? "";
}
