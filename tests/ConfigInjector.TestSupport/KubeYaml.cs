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

    private static readonly Dictionary<string, Func<JsonNode, object>> Kinds = new(StringComparer.Ordinal)
    {
        ["Secret"] = d => KubernetesJson.Deserialize<V1Secret>(d),
        ["ConfigMap"] = d => KubernetesJson.Deserialize<V1ConfigMap>(d),
        ["Pod"] = d => KubernetesJson.Deserialize<V1Pod>(d),
        ["Deployment"] = d => KubernetesJson.Deserialize<V1Deployment>(d),
        ["StatefulSet"] = d => KubernetesJson.Deserialize<V1StatefulSet>(d),
        ["DaemonSet"] = d => KubernetesJson.Deserialize<V1DaemonSet>(d),
        ["Job"] = d => KubernetesJson.Deserialize<V1Job>(d),
        ["CronJob"] = d => KubernetesJson.Deserialize<V1CronJob>(d),
        ["Service"] = d => KubernetesJson.Deserialize<V1Service>(d),
        ["Namespace"] = d => KubernetesJson.Deserialize<V1Namespace>(d),
        ["ServiceAccount"] = d => KubernetesJson.Deserialize<V1ServiceAccount>(d),
        ["CustomResourceDefinition"] = d => KubernetesJson.Deserialize<V1CustomResourceDefinition>(d),
    };

    public static T Deserialize<T>(string yaml) => KubernetesJson.Deserialize<T>(Documents(yaml).Single()!);

    /// <summary>Every document, typed by its kind.</summary>
    public static IReadOnlyList<object> LoadAll(string yaml) =>
        [.. Documents(yaml).Where(d => d is not null).Select(d => Typed(d!))];

    public static string Serialize(object value) => YamlJson.ToYaml(JsonNode.Parse(KubernetesJson.Serialize(value)));

    private static object Typed(JsonNode document)
    {
        var kind = document["kind"]?.GetValue<string>() ?? throw new InvalidDataException("a document without kind");
        return Kinds.TryGetValue(kind, out var read) ? read(document) : throw new InvalidDataException($"no model for kind {kind}");
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
