using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ConfigInjector.Tests.Fuzzing;

/// <summary>
/// Finds secret values in what leaves the webhook, in any form a value can take on the way: as it is, through any
/// chain of up to two template filters (urlencode, base64, json, trim, computed here apart from the product's code),
/// and inside an AdmissionReview after its JSON is unescaped and its base64 JSON patch decoded
/// (a value in the patch is invisible in the response text).
/// </summary>
internal sealed class LeakScan
{
    private static readonly JsonSerializerOptions JsonFilter = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly Func<string, string>[] Filters =
    [
        Uri.EscapeDataString,
        v => Convert.ToBase64String(Encoding.UTF8.GetBytes(v)),
        v => JsonSerializer.Serialize(v, JsonFilter),
        v => v.Trim(),
    ];

    private readonly IReadOnlyList<(string Value, string Form)> _forms;

    public LeakScan(IEnumerable<string> values)
    {
        var forms = new List<(string, string)>();
        foreach (var value in values)
        {
            var once = Filters.Select(filter => filter(value)).ToList();
            var twice = once.SelectMany(f => Filters.Select(filter => filter(f)));
            forms.AddRange(once.Concat(twice).Prepend(value).Select(f => (value, f)));
        }
        _forms = [.. forms.Distinct()];
    }

    /// <summary>The value found in <paramref name="text"/> (plain text, e.g. a log) and the form it took; null when none is.</summary>
    public string? FindInText(string text) =>
        _forms.FirstOrDefault(f => text.Contains(f.Form, StringComparison.Ordinal)) is ({ } value, var form) ? $"{value} as {form}" : null;

    /// <summary>As <see cref="FindInText"/>, over an HTTP answer: its text, every JSON string in it, and its decoded patch.</summary>
    public string? FindInResponse(string body)
    {
        var texts = new List<string> { body };
        try
        {
            Strings(JsonNode.Parse(body), texts);
        }
        catch (JsonException)
        {
            // Not JSON (a 400's one-line reason): its text is all there is.
        }
        return texts.Select(FindInText).FirstOrDefault(found => found is not null);
    }

    private static void Strings(JsonNode? node, List<string> into)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, child) in obj)
                {
                    if (key == "patch" && child is JsonValue patch && patch.TryGetValue<string>(out var encoded))
                        Patch(encoded, into);
                    Strings(child, into);
                }
                break;
            case JsonArray array:
                foreach (var child in array)
                    Strings(child, into);
                break;
            case JsonValue value when value.TryGetValue<string>(out var text):
                into.Add(text);
                break;
        }
    }

    private static void Patch(string encoded, List<string> into)
    {
        var bytes = new byte[encoded.Length];
        if (!Convert.TryFromBase64String(encoded, bytes, out var length))
            return;
        var decoded = Encoding.UTF8.GetString(bytes, 0, length);
        into.Add(decoded);
        try
        {
            Strings(JsonNode.Parse(decoded), into);
        }
        catch (JsonException)
        {
            // A patch that is not JSON fails the admission elsewhere; its text was added above.
        }
    }
}
