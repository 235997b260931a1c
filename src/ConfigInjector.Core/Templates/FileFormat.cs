using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace ConfigInjector.Core.Templates;

/// <summary>The formats of <c>file-format.&lt;NAME&gt;</c>: every key of a path as one file.</summary>
public enum FileFormat { Json, Yaml, Dotenv, Properties }

/// <summary>
/// Writes keys and values in a file format so that the format's reader gives back exactly the values — quotes,
/// newlines, <c>=</c>, <c>#</c>, <c>$</c>, backslashes and non-ASCII text included. Keys in ordinal order, one
/// trailing newline, deterministic (the same values render to the same bytes, so an unchanged Secret is not rewritten).
/// </summary>
public static class FileFormats
{
    public const string Names = "json, yaml, dotenv, properties";

    public static Result<FileFormat> Parse(string? text) => text switch
    {
        "json" => Result.Ok(FileFormat.Json),
        "yaml" => Result.Ok(FileFormat.Yaml),
        "dotenv" => Result.Ok(FileFormat.Dotenv),
        "properties" => Result.Ok(FileFormat.Properties),
        _ => Result.Fail<FileFormat>($"unknown format '{Text.Quote.Short(text ?? "", 40)}'; expected one of {Names}"),
    };

    public static Result<string> Render(FileFormat format, IReadOnlyDictionary<string, string> values)
    {
        var ordered = values.OrderBy(v => v.Key, StringComparer.Ordinal).ToList();
        if (format == FileFormat.Dotenv && ordered.FirstOrDefault(v => !IsEnvName(v.Key)) is { Key: not null } bad)
            return Result.Fail<string>($"the key '{Text.Quote.Short(bad.Key, 60)}' is not a valid dotenv name ([A-Za-z_][A-Za-z0-9_]*)");
        var text = format switch
        {
            FileFormat.Json => Json(ordered),
            FileFormat.Yaml => string.Concat(ordered.Select(v => $"{YamlQuoted(v.Key)}: {YamlQuoted(v.Value)}\n")),
            FileFormat.Dotenv => string.Concat(ordered.Select(v => $"{v.Key}=\"{DotenvEscaped(v.Value)}\"\n")),
            _ => string.Concat(ordered.Select(v => $"{PropertiesEscaped(v.Key, isKey: true)}={PropertiesEscaped(v.Value, isKey: false)}\n")),
        };
        return text.Length > TemplateRenderer.MaxRenderedLength
            ? Result.Fail<string>($"the rendered file is longer than {TemplateRenderer.MaxRenderedLength} characters")
            : Result.Ok(text);
    }

    private static string Json(List<KeyValuePair<string, string>> ordered)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            foreach (var (key, value) in ordered)
                writer.WriteString(key, value);
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    /// <summary>A YAML double-quoted scalar (YAML 1.2 §7.3.1): backslash escapes for '\', '"' and every control character.</summary>
    private static string YamlQuoted(string value)
    {
        var text = new StringBuilder("\"");
        foreach (var c in value)
        {
            text.Append(c switch
            {
                '\\' => "\\\\",
                '"' => "\\\"",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                '\0' => "\\0",
                // Controls, and NEL / LS / PS, which YAML readers take for line breaks.
                _ when char.IsControl(c) || c is '\u0085' or '\u2028' or '\u2029' => $"\\u{(int)c:X4}",
                _ => c.ToString(),
            });
        }
        return text.Append('"').ToString();
    }

    /// <summary>
    /// A dotenv double-quoted value as docker compose, godotenv and python-dotenv read it: '\' '"' '$' and the line
    /// breaks escaped, so no reader interpolates a '$' or ends the value early.
    /// </summary>
    private static string DotenvEscaped(string value)
    {
        var text = new StringBuilder();
        foreach (var c in value)
        {
            text.Append(c switch
            {
                '\\' => "\\\\",
                '"' => "\\\"",
                '$' => "\\$",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ => c.ToString(),
            });
        }
        return text.ToString();
    }

    /// <summary>As java.util.Properties.store writes: ISO-8859-1 safe (\uXXXX above '~'), separators and comment marks escaped.</summary>
    private static string PropertiesEscaped(string value, bool isKey)
    {
        var text = new StringBuilder();
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            text.Append(c switch
            {
                '\\' => "\\\\",
                '\t' => "\\t",
                '\n' => "\\n",
                '\r' => "\\r",
                '\f' => "\\f",
                '=' or ':' or '#' or '!' => "\\" + c,
                ' ' when isKey || i == 0 => "\\ ",
                _ when c < 0x20 || c > 0x7E => "\\u" + ((int)c).ToString("X4", CultureInfo.InvariantCulture),
                _ => c.ToString(),
            });
        }
        return text.ToString();
    }

    private static bool IsEnvName(string key) =>
        key.Length > 0 && (char.IsAsciiLetter(key[0]) || key[0] == '_') && key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}
