using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using YamlDotNet.Serialization;

namespace ConfigInjector.Manifests;

/// <summary>
/// Multi-document YAML (or JSON, which is YAML) to JSON and back, keeping every field and each scalar's type as
/// YAML 1.2's core schema reads it, so manifests survive a round trip unchanged.
/// </summary>
internal static class YamlJson
{
    public static IReadOnlyList<JsonNode?> Parse(string text)
    {
        var stream = BoundedYaml.Load(text);
        return [.. stream.Documents.Select(d => Convert(d.RootNode))];
    }

    public static string ToYaml(JsonNode? node) =>
        new SerializerBuilder().WithQuotingNecessaryStrings().DisableAliases().Build().Serialize(ToPlain(node));

    private static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode mapping => new JsonObject(mapping.Children.Select(c => KeyValuePair.Create(
            (c.Key as YamlScalarNode ?? throw new YamlException(c.Key.Start, c.Key.End, "a mapping key is not a scalar; manifests use plain keys")).Value ?? "", Convert(c.Value)))),
        YamlSequenceNode sequence => new JsonArray([.. sequence.Children.Select(Convert)]),
        YamlScalarNode scalar => Scalar(scalar),
        _ => throw new YamlException(node.Start, node.End, "aliases are not supported in manifests"),
    };

    private static JsonValue? Scalar(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? "";
        if (scalar.Style is not ScalarStyle.Plain)
            return JsonValue.Create(text);
        return text switch
        {
            "" or "~" or "null" or "Null" or "NULL" => null,
            "true" or "True" or "TRUE" => JsonValue.Create(true),
            "false" or "False" or "FALSE" => JsonValue.Create(false),
            _ when long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) => JsonValue.Create(l),
            _ when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && text.Any(char.IsDigit) && !text.Contains('_') => JsonValue.Create(d),
            _ => JsonValue.Create(text),
        };
    }

    private static object? ToPlain(JsonNode? node) => node switch
    {
        null => null,
        JsonObject obj => obj.ToDictionary(p => p.Key, p => ToPlain(p.Value)),
        JsonArray array => array.Select(ToPlain).ToList(),
        JsonValue value => value.GetValueKind() switch
        {
            JsonValueKind.String => value.GetValue<string>(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            // A value built from a CLR int (not parsed) converts to neither long nor double: go through its JSON text.
            JsonValueKind.Number when long.TryParse(value.ToJsonString(), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var l) => l,
            JsonValueKind.Number => double.Parse(value.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture),
            _ => null,
        },
        _ => null,
    };
}
