using System.Text.Json.Nodes;

namespace ConfigInjector.TestSupport.Builders;

/// <summary>admission.k8s.io/v1 AdmissionReview bodies as the API server sends them.</summary>
public static class AdmissionReviewBuilder
{
    public static string ForPod(string podJson, string @namespace = "default", string operation = "CREATE", bool dryRun = false, string? uid = null) =>
        new JsonObject
        {
            ["apiVersion"] = "admission.k8s.io/v1",
            ["kind"] = "AdmissionReview",
            ["request"] = new JsonObject
            {
                ["uid"] = uid ?? Guid.NewGuid().ToString(),
                ["kind"] = new JsonObject { ["group"] = "", ["version"] = "v1", ["kind"] = "Pod" },
                ["resource"] = new JsonObject { ["group"] = "", ["version"] = "v1", ["resource"] = "pods" },
                ["namespace"] = @namespace,
                ["operation"] = operation,
                ["userInfo"] = new JsonObject { ["username"] = "test-user" },
                ["dryRun"] = dryRun,
                ["object"] = JsonNode.Parse(podJson),
            },
        }.ToJsonString();

    public static string ForPod(PodBuilder pod, string @namespace = "default", bool dryRun = false) =>
        ForPod(pod.ToJson(), @namespace, dryRun: dryRun);
}
