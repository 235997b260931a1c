using System.Globalization;
using System.Text;
using System.Text.Json;
using ConfigInjector.Core.Templates;
using YamlDotNet.RepresentationModel;

namespace ConfigInjector.Core.Tests.Templates;

/// <summary>
/// Rendering then reading each format gives back exactly the secret values: property-style, over seeded random keys
/// and values full of what breaks naive writers (quotes, newlines, '=', '#', '$', backslashes, non-ASCII). JSON and
/// YAML are read by real parsers (System.Text.Json, YamlDotNet); dotenv and .properties by readers written here from
/// the formats' documented rules (java.util.Properties.load; the dotenv double-quoted form compose and godotenv read).
/// </summary>
public class FileFormatRoundTripTests
{
    private const string Tricky = "ab Z09 \"'\\\n\r\t=#$!:{}[],&*?|-<>%@`~ üé漢字😀\u0001\u007f";

    public static TheoryData<FileFormat> Formats => [FileFormat.Json, FileFormat.Yaml, FileFormat.Dotenv, FileFormat.Properties];

    [Theory]
    [MemberData(nameof(Formats))]
    public void Rendering_then_reading_gives_back_every_value_exactly(FileFormat format)
    {
        for (var seed = 0; seed < 200; seed++)
        {
            var values = RandomValues(new Random(seed), format);

            var text = FileFormats.Render(format, values).Value!;

            Assert.Equal(values.OrderBy(v => v.Key, StringComparer.Ordinal), Read(format, text).OrderBy(v => v.Key, StringComparer.Ordinal));
        }
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void The_same_values_render_to_the_same_bytes_in_key_order(FileFormat format)
    {
        var a = FileFormats.Render(format, new Dictionary<string, string> { ["B_KEY"] = "2", ["A_KEY"] = "1" }).Value!;
        var b = FileFormats.Render(format, new Dictionary<string, string> { ["A_KEY"] = "1", ["B_KEY"] = "2" }).Value!;

        Assert.Equal(a, b);
        Assert.True(a.IndexOf("A_KEY", StringComparison.Ordinal) < a.IndexOf("B_KEY", StringComparison.Ordinal));
        Assert.EndsWith("\n", a, StringComparison.Ordinal);
    }

    [Fact]
    public void Each_format_writes_what_its_readers_expect()
    {
        var values = new Dictionary<string, string> { ["DB_URL"] = "a=b #c $HOME\n\"q\" ü" };

        Assert.Equal("{\n  \"DB_URL\": \"a=b #c $HOME\\n\\\"q\\\" ü\"\n}\n", FileFormats.Render(FileFormat.Json, values).Value);
        Assert.Equal("\"DB_URL\": \"a=b #c $HOME\\n\\\"q\\\" ü\"\n", FileFormats.Render(FileFormat.Yaml, values).Value);
        Assert.Equal("DB_URL=\"a=b #c \\$HOME\\n\\\"q\\\" ü\"\n", FileFormats.Render(FileFormat.Dotenv, values).Value);
        Assert.Equal("DB_URL=a\\=b \\#c $HOME\\n\"q\" \\u00FC\n", FileFormats.Render(FileFormat.Properties, values).Value);
    }

    [Fact]
    public void A_key_that_is_no_env_name_cannot_be_a_dotenv_line()
    {
        var result = FileFormats.Render(FileFormat.Dotenv, new Dictionary<string, string> { ["db.url"] = "x" });

        Assert.Equal("the key 'db.url' is not a valid dotenv name ([A-Za-z_][A-Za-z0-9_]*)", result.Error);
    }

    [Theory]
    [InlineData("json", FileFormat.Json)]
    [InlineData("properties", FileFormat.Properties)]
    public void Format_names_parse(string name, FileFormat format) => Assert.Equal(format, FileFormats.Parse(name).Value);

    [Fact]
    public void An_unknown_format_names_the_known_ones() =>
        Assert.Equal("unknown format 'toml'; expected one of json, yaml, dotenv, properties", FileFormats.Parse("toml").Error);

    private static Dictionary<string, string> RandomValues(Random random, FileFormat format)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = random.Next(1, 6); i > 0; i--)
        {
            var key = format == FileFormat.Dotenv
                ? "K" + new string([.. Enumerable.Range(0, random.Next(1, 8)).Select(_ => "ABC_xyz019"[random.Next(10)])])
                : new string([.. Enumerable.Range(0, random.Next(1, 10)).Select(_ => "abc.-_XYZ09 =:#ü"[random.Next(16)])]);
            values[key] = new string([.. Enumerable.Range(0, random.Next(0, 40)).Select(_ => Tricky[random.Next(Tricky.Length)])]);
        }
        // Emoji are two UTF-16 units: a random cut may split one, which no writer can be asked to keep. Keep whole ones.
        return values.ToDictionary(v => v.Key, v => new string([.. v.Value.Where((c, i) => !char.IsSurrogate(c) || IsWholePair(v.Value, i))]));
    }

    private static bool IsWholePair(string s, int i) =>
        char.IsHighSurrogate(s[i]) ? i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]) : i > 0 && char.IsHighSurrogate(s[i - 1]);

    private static Dictionary<string, string> Read(FileFormat format, string text) => format switch
    {
        FileFormat.Json => JsonDocument.Parse(text).RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!),
        FileFormat.Yaml => ReadYaml(text),
        FileFormat.Dotenv => ReadDotenv(text),
        _ => ReadProperties(text),
    };

    private static Dictionary<string, string> ReadYaml(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return ((YamlMappingNode)stream.Documents[0].RootNode).Children.ToDictionary(c => ((YamlScalarNode)c.Key).Value!, c => ((YamlScalarNode)c.Value).Value!);
    }

    /// <summary>KEY="value" per line; in the quotes \\ \" \$ \n \r \t are escapes, as docker compose and godotenv read them.</summary>
    private static Dictionary<string, string> ReadDotenv(string text)
    {
        var values = new Dictionary<string, string>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = line.IndexOf('=');
            var quoted = line[(equals + 1)..];
            Assert.True(quoted.Length >= 2 && quoted[0] == '"' && quoted[^1] == '"', line);
            values[line[..equals]] = Unescape(quoted[1..^1], c => c switch { 'n' => "\n", 'r' => "\r", 't' => "\t", _ => c.ToString() });
        }
        return values;
    }

    /// <summary>java.util.Properties.load: the key ends at the first unescaped '=', ':' or white space; \t \n \r \f \uXXXX, '\x' is x.</summary>
    private static Dictionary<string, string> ReadProperties(string text)
    {
        var values = new Dictionary<string, string>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var end = 0;
            while (end < line.Length && !(line[end] is '=' or ':' or ' ' or '\t' or '\f'))
                end += line[end] == '\\' ? 2 : 1;
            var rest = line[end..].TrimStart(' ', '\t', '\f');
            if (rest.Length > 0 && rest[0] is '=' or ':')
                rest = rest[1..].TrimStart(' ', '\t', '\f');
            values[UnescapeProperties(line[..end])] = UnescapeProperties(rest);
        }
        return values;
    }

    private static string UnescapeProperties(string text)
    {
        var output = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '\\')
            {
                output.Append(text[i]);
                continue;
            }
            var c = text[++i];
            if (c == 'u')
            {
                output.Append((char)int.Parse(text.AsSpan(i + 1, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                i += 4;
                continue;
            }
            output.Append(c switch { 't' => '\t', 'n' => '\n', 'r' => '\r', 'f' => '\f', _ => c });
        }
        return output.ToString();
    }

    private static string Unescape(string text, Func<char, string> escape)
    {
        var output = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
            output.Append(text[i] == '\\' ? escape(text[++i]) : text[i].ToString());
        return output.ToString();
    }
}
