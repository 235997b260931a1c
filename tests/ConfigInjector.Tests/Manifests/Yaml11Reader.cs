using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ConfigInjector.Tests.Manifests;

/// <summary>
/// Reads YAML the way the strictest of its readers types a plain scalar: YAML 1.1's types as yaml.org defines them
/// (what PyYAML and kubectl's go-yaml v2 follow), YAML 1.2's core schema, and go-yaml's integer parsing
/// (Go's <c>strconv.ParseInt(s, 0, 64)</c> after dropping '_': 0b/0o/0x prefixes in either case, with a sign).
/// A quoted or block scalar is a string. Timestamps are left out: go-yaml gives them back as strings.
/// </summary>
internal static partial class Yaml11Reader
{
    /// <summary>Each scalar of the document, keys and values alike, with the type a plain one resolves to ("str" when quoted).</summary>
    public static IReadOnlyList<(string Tag, string Text)> Scalars(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        var scalars = new List<(string, string)>();
        foreach (var node in stream.Documents.SelectMany(d => d.AllNodes).OfType<YamlScalarNode>())
            scalars.Add((node.Style == ScalarStyle.Plain ? Resolve(node.Value ?? "") : "str", node.Value ?? ""));
        return scalars;
    }

    public static string Resolve(string plain) =>
        Bool().IsMatch(plain) ? "bool"
        : Null().IsMatch(plain) ? "null"
        : Int().IsMatch(plain) ? "int"
        : Float().IsMatch(plain) ? "float"
        : "str";

    // https://yaml.org/type/bool.html
    [GeneratedRegex("^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$")]
    private static partial Regex Bool();

    // https://yaml.org/type/null.html
    [GeneratedRegex("^(~|null|Null|NULL|)$")]
    private static partial Regex Null();

    // https://yaml.org/type/int.html (base 2, 8, 10, 16 and 60); YAML 1.2 core (https://yaml.org/spec/1.2.2/#1032-tag-resolution:
    // 0o, 0x); go-yaml's ParseInt(s, 0, 64) on the text without '_' (a sign before any prefix, prefixes in either case).
    [GeneratedRegex("^([-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+"
        + "|0o[0-7]+|[-+]?[0-9]+"
        + "|[-+]?0[bB][0-1_]+|[-+]?0[oO][0-7_]+|[-+]?0[xX][0-9a-fA-F_]+)$")]
    private static partial Regex Int();

    // https://yaml.org/type/float.html (base 10, base 60, infinity, not a number); YAML 1.2 core's float.
    [GeneratedRegex(@"^([-+]?([0-9][0-9_]*)?\.[0-9.]*([eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
        + @"|[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)$")]
    private static partial Regex Float();
}
