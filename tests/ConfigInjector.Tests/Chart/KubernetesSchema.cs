using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace ConfigInjector.Tests.Chart;

/// <summary>
/// Validates rendered objects against the Kubernetes API schema as KubernetesClient's generated models carry it
/// (from the API server's OpenAPI document), with unknown fields refused: a misspelt or misplaced field fails
/// here instead of being dropped by the API server.
/// </summary>
internal static class KubernetesSchema
{
    private static readonly Dictionary<(string ApiVersion, string Kind), Type> Models = typeof(V1Pod).Assembly.GetTypes()
        .Select(t => (Type: t, Entity: t.GetCustomAttribute<KubernetesEntityAttribute>()))
        .Where(m => m.Entity is not null && !m.Type.Name.EndsWith("List", StringComparison.Ordinal))
        .GroupBy(m => (string.IsNullOrEmpty(m.Entity!.Group) ? m.Entity.ApiVersion : $"{m.Entity.Group}/{m.Entity.ApiVersion}", m.Entity.Kind))
        .ToDictionary(g => g.Key, g => g.First().Type);

    private static readonly JsonSerializerOptions Strict = CreateStrict();

    private static JsonSerializerOptions CreateStrict()
    {
        // KubernetesJson's own converters (quantities, int-or-string, dates), with unmapped members refused.
        var field = typeof(KubernetesJson).GetFields(BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Static)
            .FirstOrDefault(f => f.FieldType == typeof(JsonSerializerOptions))
            ?? throw new InvalidOperationException("KubernetesJson's options were not found");
        return new JsonSerializerOptions((JsonSerializerOptions)field.GetValue(null)!) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow };
    }

    public static bool Knows(JsonObject item) => Models.ContainsKey(Key(item));

    /// <summary>Null when the object fits its kind's schema, else why not.</summary>
    public static string? Problem(JsonObject item)
    {
        if (!Models.TryGetValue(Key(item), out var type))
            return $"no model for {Key(item)}";
        try
        {
            return JsonSerializer.Deserialize(item.ToJsonString(), type, Strict) is null ? "null" : null;
        }
        catch (JsonException e)
        {
            return e.Message;
        }
    }

    private static (string, string) Key(JsonObject item) => (item["apiVersion"]?.GetValue<string>() ?? "", item["kind"]?.GetValue<string>() ?? "");
}
