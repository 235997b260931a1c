using System.Text.Json.Nodes;

namespace ConfigInjector.Manifests;

/// <summary>Where each workload kind keeps the pod it creates: the part offline injection mutates.</summary>
internal static class PodTemplates
{
    public static readonly IReadOnlyList<string> Kinds = ["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"];

    /// <summary>The object holding <c>metadata</c> and <c>spec</c> of the pod, or null for kinds that create no pods.</summary>
    public static JsonObject? Find(JsonObject manifest) => manifest["kind"]?.GetValue<string>() switch
    {
        "Pod" => manifest,
        "Deployment" or "StatefulSet" or "DaemonSet" or "ReplicaSet" or "Job" => manifest["spec"]?["template"] as JsonObject,
        "CronJob" => manifest["spec"]?["jobTemplate"]?["spec"]?["template"] as JsonObject,
        _ => null,
    };
}
