using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

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

    /// <summary>
    /// Block-style YAML with no aliases; a string that a YAML reader (1.2's core schema, or 1.1's as kubectl's go-yaml
    /// has it: yes, no, on, off) would take for another type is quoted.
    /// </summary>
    public static string ToYaml(JsonNode? node)
    {
        var text = new StringWriter(CultureInfo.InvariantCulture);
        var emitter = new Emitter(text);
        emitter.Emit(new StreamStart());
        emitter.Emit(new DocumentStart());
        Emit(emitter, node);
        emitter.Emit(new DocumentEnd(isImplicit: true));
        emitter.Emit(new StreamEnd());
        return text.ToString();
    }

    private static void Emit(IEmitter emitter, JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                emitter.Emit(new MappingStart(null, null, isImplicit: true, MappingStyle.Block));
                foreach (var (key, value) in obj)
                {
                    EmitString(emitter, key);
                    Emit(emitter, value);
                }
                emitter.Emit(new MappingEnd());
                break;
            case JsonArray array:
                emitter.Emit(new SequenceStart(null, null, isImplicit: true, SequenceStyle.Block));
                foreach (var item in array)
                    Emit(emitter, item);
                emitter.Emit(new SequenceEnd());
                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                EmitString(emitter, value.GetValue<string>());
                break;
            case JsonValue value:
                EmitPlain(emitter, value.GetValueKind() switch
                {
                    JsonValueKind.True => "true",
                    JsonValueKind.False => "false",
                    JsonValueKind.Number => value.ToJsonString(),
                    _ => "null",
                });
                break;
            default:
                EmitPlain(emitter, "null");
                break;
        }
    }

    private static void EmitPlain(IEmitter emitter, string text) =>
        emitter.Emit(new Scalar(null, null, text, ScalarStyle.Plain, isPlainImplicit: true, isQuotedImplicit: false));

    // The emitter itself quotes what cannot be plain (": ", "#", a leading "-", ...); what it would leave plain but a
    // reader would take for a null, a boolean or a number is double-quoted here.
    private static void EmitString(IEmitter emitter, string text) =>
        emitter.Emit(new Scalar(null, null, text, ReadsAsOtherType(text) ? ScalarStyle.DoubleQuoted : ScalarStyle.Any, isPlainImplicit: true, isQuotedImplicit: true));

    private static bool ReadsAsOtherType(string text) =>
        text.Length == 0
        || Scalar(new YamlScalarNode(text) { Style = ScalarStyle.Plain }) is not { } parsed
        || parsed.GetValueKind() != JsonValueKind.String
        || text.ToUpperInvariant() is "Y" or "N" or "YES" or "NO" or "ON" or "OFF" or ".INF" or "-.INF" or "+.INF" or ".NAN"
        || HasBasePrefix(text[0] is '+' or '-' ? text[1..] : text)
        || ((char.IsDigit(text[0]) || text[0] is '+' or '-' or '.') && text.Any(char.IsDigit) && text.All(c => char.IsDigit(c) || c is '_' or ':' or '.' or '+' or '-' or 'e' or 'E'));

    // YAML 1.1 reads 0b… and 0x… as integers, and go-yaml (Go's ParseInt with base 0) also 0o…, in either case, after a sign.
    private static bool HasBasePrefix(string unsigned) =>
        unsigned.Length > 1 && unsigned[0] == '0' && unsigned[1] is 'x' or 'X' or 'o' or 'O' or 'b' or 'B';

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
}
