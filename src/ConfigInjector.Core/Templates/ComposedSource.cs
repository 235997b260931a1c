using System.Text.Json;
using System.Text.Json.Nodes;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;

namespace ConfigInjector.Core.Templates;

/// <summary>
/// A managed-Secret key composed from several values: a template's rendered text, or every key of one path written in
/// a file format. What it is made of (never the values) is recorded and signed with the Secret, next to the plain
/// sources, so the sync worker renders it again when any version changes.
/// </summary>
/// <param name="Template">The template text (for <c>template.</c> and <c>file-template.</c>), or null.</param>
/// <param name="From">The path ref without a key (for <c>file-from.</c>), or null.</param>
/// <param name="Format">The format of a <paramref name="From"/> file.</param>
/// <param name="Versions">Each ref read (a template's placeholders, or the path) and the version used.</param>
public sealed record ComposedSource(string? Template, string? From, FileFormat? Format, IReadOnlyDictionary<string, string> Versions)
{
    public static ComposedSource ForTemplate(string text, IReadOnlyDictionary<string, string> versions) => new(text, null, null, versions);

    public static ComposedSource ForFile(string from, FileFormat format, string version) => new(null, from, format, new Dictionary<string, string> { [from] = version });

    /// <summary>
    /// The refs this key reads, taken from what the signature covers (the template text, or the path), never from
    /// <see cref="Versions"/>, which anyone who may edit the Secret could extend.
    /// </summary>
    public IReadOnlyList<SecretReference> Refs() =>
        Template is not null ? TemplateParser.Parse(Template) is { IsOk: true } parsed ? parsed.Value!.Refs : []
        : ReferenceParser.Parse(From, keyAllowed: false) is { IsOk: true } from ? [from.Value!] : [];

    /// <summary>
    /// Renders the value from fresh reads: the text and the versions used, or why it cannot be (a ref, never a value).
    /// <paramref name="refuse"/> says why a ref may not be used any more: each template ref, and for a formatted
    /// file every key of the path as read (as admission decides them), never the bare path.
    /// </summary>
    public Result<(string Value, IReadOnlyDictionary<string, string> Versions)> Render(IReadOnlyDictionary<SecretLocation, SecretRead> reads, Func<SecretReference, string?>? refuse = null)
    {
        var versions = new SortedDictionary<string, string>(StringComparer.Ordinal);
        string? Refused(SecretReference reference) => refuse?.Invoke(reference) is { } refusal ? $"{reference}: {refusal}" : null;
        string? Lookup(SecretReference reference, Func<SecretDocument, string?> pick, out string? error)
        {
            error = reference.Key is not null || Template is not null ? Refused(reference) : null;
            if (error is not null)
                return null;
            if (!reads.TryGetValue(reference.Location, out var read) || read.Status != ReadStatus.Found)
            {
                error = $"{reference}: {(read?.Status switch { ReadStatus.NotFound => "not found: ", ReadStatus.Refused => "", _ => "backend error: " })}{read?.Reason ?? "not read"}";
                return null;
            }
            versions[reference.ToString()] = read.Document!.Version;
            var value = pick(read.Document);
            error = value is null ? $"{reference}: the key is not at that path" : null;
            return value;
        }

        if (Template is not null)
        {
            var template = TemplateParser.Parse(Template);
            if (!template.IsOk)
                return Result.Fail<(string, IReadOnlyDictionary<string, string>)>(template.Error!);
            string? failure = null;
            var rendered = TemplateRenderer.Render(template.Value!, r =>
                failure is null ? Lookup(r, d => r.Key is { } key ? d.Data.GetValueOrDefault(key) : d.Data.Count == 1 ? d.Data.Values.First() : null, out failure) : null);
            return failure is not null ? Result.Fail<(string, IReadOnlyDictionary<string, string>)>(failure)
                : !rendered.IsOk ? Result.Fail<(string, IReadOnlyDictionary<string, string>)>(rendered.Error!)
                : Result.Ok<(string, IReadOnlyDictionary<string, string>)>((rendered.Value!, versions));
        }

        var from = ReferenceParser.Parse(From, keyAllowed: false);
        if (!from.IsOk || Format is not { } format)
            return Result.Fail<(string, IReadOnlyDictionary<string, string>)>($"\"{From}\": {from.Error ?? "no format"}");
        IReadOnlyDictionary<string, string>? data = null;
        Lookup(from.Value!, d => (data = d.Data) is not null ? "" : null, out var error);
        error ??= data!.Keys.Order(StringComparer.Ordinal).Select(k => Refused(from.Value!.WithKey(k))).FirstOrDefault(r => r is not null);
        if (error is not null)
            return Result.Fail<(string, IReadOnlyDictionary<string, string>)>(error);
        var file = FileFormats.Render(format, data!);
        return file.IsOk
            ? Result.Ok<(string, IReadOnlyDictionary<string, string>)>((file.Value!, versions))
            : Result.Fail<(string, IReadOnlyDictionary<string, string>)>($"{From}: {file.Error}");
    }
}

/// <summary>The <c>configinjector.io/composed</c> annotation: key → how it is composed, as JSON.</summary>
public static class ComposedSources
{
    public const string Annotation = "configinjector.io/composed";

    // People read this annotation (kubectl get secret -o yaml): quotes and '<' stay as they are, not \u0022.
    private static readonly JsonSerializerOptions Readable = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Serialize(IReadOnlyDictionary<string, ComposedSource> composed)
    {
        var root = new JsonObject();
        foreach (var (key, source) in composed.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            var entry = new JsonObject();
            if (source.Template is not null)
                entry["template"] = source.Template;
            if (source.From is not null)
            {
                entry["from"] = source.From;
                entry["format"] = source.Format.ToString()!.ToLowerInvariant();
            }
            entry["versions"] = new JsonObject([.. source.Versions.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => KeyValuePair.Create(v.Key, (JsonNode?)v.Value))]);
            root[key] = entry;
        }
        return root.ToJsonString(Readable);
    }

    /// <summary>Null for any shape the injector does not write: anyone who may edit the Secret wrote this too.</summary>
    public static IReadOnlyDictionary<string, ComposedSource>? Parse(string? json)
    {
        if (json is null)
            return null;
        try
        {
            if (JsonNode.Parse(json) is not JsonObject root)
                return null;
            var composed = new Dictionary<string, ComposedSource>(StringComparer.Ordinal);
            foreach (var (key, node) in root)
            {
                if (node is not JsonObject entry || entry["versions"] is not JsonObject versions
                    || versions.Any(v => v.Value is not JsonValue value || !value.TryGetValue<string>(out _)))
                    return null;
                var template = entry["template"] is JsonValue t && t.TryGetValue<string>(out var text) ? text : null;
                var from = entry["from"] is JsonValue f && f.TryGetValue<string>(out var path) ? path : null;
                var format = entry["format"] is JsonValue fm && fm.TryGetValue<string>(out var name) ? FileFormats.Parse(name) : Result.Fail<FileFormat>("no format");
                if ((template is null) == (from is null) || (from is not null && !format.IsOk))
                    return null;
                composed[key] = new ComposedSource(template, from, from is null ? null : format.Value,
                    versions.ToDictionary(v => v.Key, v => v.Value!.GetValue<string>(), StringComparer.Ordinal));
            }
            return composed;
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException or FormatException)
        {
            // Hostile JSON (duplicate names, odd types) is "not ours", never an exception: it must not stop a pass.
            return null;
        }
    }
}
