using System.Text.Json;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace ConfigInjector.Kubernetes;

/// <summary>A custom resource read generically: its spec stays JSON until the same reader as the policy files validates it.</summary>
internal sealed class CustomResource : IKubernetesObject<V1ObjectMeta>
{
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = "";

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "";

    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    [JsonPropertyName("spec")]
    public JsonElement? Spec { get; set; }
}

internal sealed class CustomResourceList
{
    [JsonPropertyName("metadata")]
    public V1ListMeta? Metadata { get; set; }

    [JsonPropertyName("items")]
    public List<CustomResource> Items { get; set; } = [];
}
