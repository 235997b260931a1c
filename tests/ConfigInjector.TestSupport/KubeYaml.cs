using System.Text.Json;
using System.Text.Json.Nodes;
using ConfigInjector.Manifests;
using k8s;
using k8s.Models;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace ConfigInjector.TestSupport;

/// <summary>
/// Kubernetes objects from and to YAML in tests (the AOT build of the client keeps its YAML reader internal). Reading
/// goes through YamlDotNet's own deserializer with YAML 1.1 type inference, as kubectl's go-yaml reads, not through the
/// product's reader, so what the product writes is checked by a second reader.
/// </summary>
public static class KubeYaml
{
    private static readonly IDeserializer Reader = new DeserializerBuilder().WithAttemptingUnquotedStringTypeDeserialization().Build();

    private static readonly Dictionary<string, Type> Kinds = new(StringComparer.Ordinal)
    {
        ["Secret"] = typeof(V1Secret),
        ["ConfigMap"] = typeof(V1ConfigMap),
        ["Pod"] = typeof(V1Pod),
        ["Deployment"] = typeof(V1Deployment),
        ["StatefulSet"] = typeof(V1StatefulSet),
        ["DaemonSet"] = typeof(V1DaemonSet),
        ["Job"] = typeof(V1Job),
        ["CronJob"] = typeof(V1CronJob),
        ["Service"] = typeof(V1Service),
        ["CustomResourceDefinition"] = typeof(V1CustomResourceDefinition),
    };

    public static T Deserialize<T>(string yaml) => KubernetesJson.Deserialize<T>(Documents(yaml).Single()!);

    /// <summary>Every document, typed by its kind.</summary>
    public static IReadOnlyList<object> LoadAll(string yaml) =>
        [.. Documents(yaml).Where(d => d is not null).Select(d => Typed(d!))];

    public static string Serialize(object value) => YamlJson.ToYaml(JsonNode.Parse(KubernetesJson.Serialize(value)));

    private static object Typed(JsonNode document)
    {
        var kind = document["kind"]?.GetValue<string>() ?? throw new InvalidDataException("a document without kind");
        if (!Kinds.TryGetValue(kind, out var type))
            throw new InvalidDataException($"no model for kind {kind}");
        return type.Name switch
        {
            nameof(V1Secret) => KubernetesJson.Deserialize<V1Secret>(document),
            nameof(V1ConfigMap) => KubernetesJson.Deserialize<V1ConfigMap>(document),
            nameof(V1Pod) => KubernetesJson.Deserialize<V1Pod>(document),
            nameof(V1Deployment) => KubernetesJson.Deserialize<V1Deployment>(document),
            nameof(V1StatefulSet) => KubernetesJson.Deserialize<V1StatefulSet>(document),
            nameof(V1DaemonSet) => KubernetesJson.Deserialize<V1DaemonSet>(document),
            nameof(V1Job) => KubernetesJson.Deserialize<V1Job>(document),
            nameof(V1CronJob) => KubernetesJson.Deserialize<V1CronJob>(document),
            nameof(V1Service) => KubernetesJson.Deserialize<V1Service>(document),
            _ => KubernetesJson.Deserialize<V1CustomResourceDefinition>(document),
        };
    }

    private static List<JsonNode?> Documents(string yaml)
    {
        var documents = new List<JsonNode?>();
        var parser = new YamlDotNet.Core.Parser(new StringReader(yaml));
        parser.Consume<YamlDotNet.Core.Events.StreamStart>();
        while (!parser.Accept<YamlDotNet.Core.Events.StreamEnd>(out _))
        {
            var plain = Reader.Deserialize<object?>(parser);
            documents.Add(plain is null ? null : JsonSerializer.SerializeToNode(plain));
        }
        return documents;
    }
}
