using System.Text.Json;
using k8s.Models;

namespace ConfigInjector.Admission;

/// <summary>The typed pod bound straight from the review's bytes, with the Kubernetes client's own JSON metadata and converters.</summary>
internal static class PodJson
{
    public static V1Pod Deserialize(ReadOnlySpan<byte> utf8) =>
        JsonSerializer.Deserialize(utf8, k8s.SourceGenerationContext.Default.V1Pod) ?? throw new JsonException("the pod is JSON null");
}
