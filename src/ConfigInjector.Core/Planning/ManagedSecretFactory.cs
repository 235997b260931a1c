using System.Text;
using System.Text.Json;
using k8s.Models;

namespace ConfigInjector.Core.Planning;

/// <summary>The Kubernetes Secret for a plan: values in <c>data</c>, refs and versions (never values) in annotations.</summary>
public static class ManagedSecretFactory
{
    public const string ManagedByLabel = "app.kubernetes.io/managed-by";
    public const string ManagedByValue = "config-injector";
    public const string SourcesAnnotation = "configinjector.io/sources";

    public static V1Secret Create(ManagedSecretSpec spec) => new()
    {
        ApiVersion = "v1",
        Kind = "Secret",
        Type = "Opaque",
        Metadata = new V1ObjectMeta
        {
            Name = spec.Name,
            NamespaceProperty = spec.Namespace,
            Labels = new Dictionary<string, string> { [ManagedByLabel] = ManagedByValue },
            Annotations = new Dictionary<string, string> { [SourcesAnnotation] = JsonSerializer.Serialize(spec.Sources) },
        },
        Data = spec.Data.ToDictionary(d => d.Key, d => Encoding.UTF8.GetBytes(d.Value)),
    };
}
