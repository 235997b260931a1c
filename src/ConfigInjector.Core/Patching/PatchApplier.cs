using System.Globalization;
using System.Text.Json.Nodes;

namespace ConfigInjector.Core.Patching;

/// <summary>
/// Applies the operations this project produces (RFC 6902 <c>add</c> and <c>replace</c>, with <c>/-</c> and
/// escaped pointers) to a JSON document, for offline injection. Tests check it against an independent implementation.
/// </summary>
public static class PatchApplier
{
    public static void Apply(JsonObject document, IEnumerable<PatchOperation> operations)
    {
        foreach (var op in operations)
        {
            var tokens = op.Path.Split('/').Skip(1).Select(t => t.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToArray();
            var parent = Navigate(document, tokens[..^1], op.Path);
            var last = tokens[^1];
            var value = op.Value?.DeepClone();
            switch (parent)
            {
                case JsonObject obj:
                    obj[last] = value;
                    break;
                case JsonArray array when last == "-" && op.Op == "add":
                    array.Add(value);
                    break;
                case JsonArray array:
                    var index = int.Parse(last, CultureInfo.InvariantCulture);
                    if (op.Op == "replace")
                        array[index] = value;
                    else
                        array.Insert(index, value);
                    break;
                default:
                    throw new InvalidOperationException($"cannot apply {op.Op} at {op.Path}");
            }
        }
    }

    private static JsonNode Navigate(JsonNode node, IEnumerable<string> tokens, string path)
    {
        foreach (var token in tokens)
        {
            node = node switch
            {
                JsonObject obj when obj[token] is { } child => child,
                JsonArray array when int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < array.Count && array[i] is { } item => item,
                _ => throw new InvalidOperationException($"{path}: no {token} to patch"),
            };
        }
        return node;
    }
}
