using System.Text.Json.Nodes;
using ConfigInjector.TestSupport;
using Json.Schema;

namespace ConfigInjector.Tests.Chart;

/// <summary>
/// One of the chart's CRDs, and its <c>openAPIV3Schema</c> as JSON Schema (draft 2020-12) for JsonSchema.Net: the
/// OpenAPI v3 subset Kubernetes takes is JSON Schema but for its <c>x-kubernetes-*</c> extensions, which are dropped
/// (their CEL rules are listed by <see cref="CelRules"/>; nothing here evaluates them). An object with properties
/// gets <c>additionalProperties: false</c>: <c>kubectl apply</c> asks for strict field validation (its default since
/// Kubernetes 1.27), so the API server refuses an unknown field instead of pruning it.
/// </summary>
internal sealed class CrdSchema
{
    // The keywords the conversion knows; any other fails the conversion, so none is dropped unnoticed.
    private static readonly HashSet<string> Keywords =
    [
        "type", "description", "properties", "required", "items", "additionalProperties", "enum", "pattern", "format",
        "minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties", "minimum", "maximum",
        "anyOf", "allOf", "oneOf", "not",
    ];

    private readonly JsonSchema _schema;

    private CrdSchema(string plural, JsonObject crd)
    {
        Plural = plural;
        Crd = crd;
        OpenApi = (JsonObject)crd["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!;
        var converted = Convert(OpenApi);
        // The API server itself checks apiVersion, kind and metadata; the schema need only let them through.
        var properties = (JsonObject)converted["properties"]!;
        properties["apiVersion"] = new JsonObject { ["type"] = "string" };
        properties["kind"] = new JsonObject { ["type"] = "string" };
        properties["metadata"] = new JsonObject { ["type"] = "object" };
        converted["$schema"] = "https://json-schema.org/draft/2020-12/schema";
        JsonSchemaText = converted.ToJsonString();
        _schema = JsonSchema.FromText(JsonSchemaText);
    }

    public string Plural { get; }

    public JsonObject Crd { get; }

    public JsonObject OpenApi { get; }

    public string JsonSchemaText { get; }

    public static CrdSchema SecretPolicies { get; } = Load("secretpolicies");

    public static CrdSchema ConfigProfiles { get; } = Load("configprofiles");

    public static IReadOnlyList<CrdSchema> All => [SecretPolicies, ConfigProfiles];

    public static CrdSchema ForKind(string? kind) => kind switch
    {
        "SecretPolicy" => SecretPolicies,
        "ConfigProfile" => ConfigProfiles,
        _ => throw new ArgumentException($"no CRD for kind {kind}", nameof(kind)),
    };

    /// <summary>Null when the object fits the schema, else each failure as "location: error".</summary>
    public string? Problem(JsonNode? item)
    {
        var result = _schema.Evaluate(item, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (result.IsValid)
            return null;
        return string.Join("; ", result.Details.Where(d => d.HasErrors).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")));
    }

    /// <summary>Every CEL rule of the schema, as "path: rule".</summary>
    public IReadOnlyList<string> CelRules() => [.. Nodes(OpenApi, "").SelectMany(n => (n.Node["x-kubernetes-validations"] as JsonArray ?? [])
        .Select(v => $"{n.Path}: {v!["rule"]!.GetValue<string>()}"))];

    /// <summary>Every schema node with its path (".spec.rules[]"), logical junctors' branches included, as "path|anyOf[0]".</summary>
    public static IEnumerable<(string Path, JsonObject Node)> Nodes(JsonObject node, string path)
    {
        yield return (path, node);
        if (node["properties"] is JsonObject properties)
        {
            foreach (var (name, child) in properties)
            {
                foreach (var nested in Nodes((JsonObject)child!, $"{path}.{name}"))
                    yield return nested;
            }
        }
        foreach (var key in (string[])["items", "additionalProperties", "not"])
        {
            if (node[key] is JsonObject child)
            {
                foreach (var nested in Nodes(child, key == "items" ? $"{path}[]" : $"{path}|{key}"))
                    yield return nested;
            }
        }
        foreach (var key in (string[])["anyOf", "allOf", "oneOf"])
        {
            foreach (var (branch, i) in (node[key] as JsonArray ?? []).Select((b, i) => (b, i)))
            {
                foreach (var nested in Nodes((JsonObject)branch!, $"{path}|{key}[{i}]"))
                    yield return nested;
            }
        }
    }

    private static CrdSchema Load(string plural)
    {
        var file = Path.Combine(Helm.Chart, "crds", $"{plural}.configinjector.io.yaml");
        return new CrdSchema(plural, (JsonObject)ConfigInjector.Manifests.YamlJson.Parse(File.ReadAllText(file))[0]!);
    }

    private static JsonObject Convert(JsonObject node)
    {
        var result = new JsonObject();
        foreach (var (key, value) in node)
        {
            if (key.StartsWith("x-kubernetes-", StringComparison.Ordinal))
                continue;
            if (!Keywords.Contains(key))
                throw new InvalidOperationException($"the conversion does not know the keyword {key}");
            result[key] = key switch
            {
                "properties" => new JsonObject([.. ((JsonObject)value!).Select(p => KeyValuePair.Create(p.Key, (JsonNode?)Convert((JsonObject)p.Value!)))]),
                "items" or "not" => Convert((JsonObject)value!),
                "additionalProperties" when value is JsonObject schema => Convert(schema),
                "anyOf" or "allOf" or "oneOf" => new JsonArray([.. ((JsonArray)value!).Select(b => (JsonNode?)Convert((JsonObject)b!))]),
                _ => value?.DeepClone(),
            };
        }
        if (result["type"]?.GetValue<string>() == "object" && result.ContainsKey("properties") && !result.ContainsKey("additionalProperties")
            && node["x-kubernetes-preserve-unknown-fields"]?.GetValue<bool>() != true)
            result["additionalProperties"] = false;
        return result;
    }
}
