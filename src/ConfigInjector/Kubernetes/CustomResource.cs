using System.Text.Json;
using k8s;
using k8s.Models;

namespace ConfigInjector.Kubernetes;

/// <summary>
/// A custom resource read generically: its metadata for the informer, and the object as the API server sent it, which
/// the same reader as the policy files validates.
/// </summary>
internal sealed class CustomResource : IKubernetesObject<V1ObjectMeta>
{
    public string ApiVersion { get; set; } = "";

    public string Kind { get; set; } = "";

    public V1ObjectMeta Metadata { get; set; } = new();

    /// <summary>The whole object as JSON text.</summary>
    public string Json { get; private init; } = "{}";

    public static CustomResource From(JsonElement element) => new()
    {
        ApiVersion = element.TryGetProperty("apiVersion", out var apiVersion) ? apiVersion.GetString() ?? "" : "",
        Kind = element.TryGetProperty("kind", out var kind) ? kind.GetString() ?? "" : "",
        Metadata = element.TryGetProperty("metadata", out var metadata) ? KubernetesJson.Deserialize<V1ObjectMeta>(metadata) : new(),
        Json = element.GetRawText(),
    };
}
