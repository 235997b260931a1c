using System.Globalization;
using ConfigInjector.Core.Text;
using YamlDotNet.RepresentationModel;

namespace ConfigInjector.Configuration;

/// <summary>
/// A YAML mapping read with its position, so every mistake names file, line and field.
/// Keys that nobody asked for are reported by <see cref="RejectUnknown"/>: a typo never passes silently.
/// </summary>
internal sealed class ConfigNode(string file, string path, YamlMappingNode node)
{
    private readonly HashSet<string> _read = [];

    public string File => file;

    public string Path => path;

    public string? String(string key, bool required = false)
    {
        var value = Get(key);
        if (value is null)
            return required ? throw Error(node, key, "required") : null;
        if (value is not YamlScalarNode scalar)
            throw Error(value, key, "must be a string");
        if (required && string.IsNullOrWhiteSpace(scalar.Value))
            throw Error(value, key, "must not be empty");
        return scalar.Value;
    }

    public bool Bool(string key, bool fallback)
    {
        var text = String(key);
        return text switch
        {
            null => fallback,
            "true" => true,
            "false" => false,
            _ => throw Error(Get(key)!, key, $"\"{text}\" is not true or false"),
        };
    }

    public long Long(string key, long fallback, long min, long max)
    {
        var text = String(key);
        if (text is null)
            return fallback;
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            throw Error(Get(key)!, key, $"\"{text}\" is not a whole number from {min} to {max}");
        return value;
    }

    /// <param name="zeroAllowed">Whether <c>0s</c> means something (e.g. "no wait") rather than a mistake.</param>
    public TimeSpan Duration(string key, TimeSpan fallback, bool zeroAllowed = false)
    {
        var text = String(key);
        if (text is null)
            return fallback;
        return DurationParser.TryParse(text, out var value) && (value > TimeSpan.Zero || (zeroAllowed && value == TimeSpan.Zero))
            ? value
            : throw Error(Get(key)!, key, $"\"{text}\" is not a duration such as 30s, 5m or 1h30m");
    }

    public ConfigNode? Mapping(string key)
    {
        var value = Get(key);
        return value switch
        {
            null => null,
            YamlMappingNode mapping => new ConfigNode(file, Child(key), mapping),
            _ => throw Error(value, key, "must be a mapping"),
        };
    }

    public IReadOnlyList<ConfigNode> Sequence(string key)
    {
        var value = Get(key);
        if (value is null)
            return [];
        if (value is not YamlSequenceNode sequence)
            throw Error(value, key, "must be a list");
        return [.. sequence.Children.Select((item, i) => item is YamlMappingNode mapping
            ? new ConfigNode(file, $"{Child(key)}[{i}]", mapping)
            : throw Error(item, $"{key}[{i}]", "must be a mapping"))];
    }

    /// <summary>A list of strings; null when the key is absent, so "omitted = any" stays distinguishable from an empty list.</summary>
    public IReadOnlyList<string>? Strings(string key)
    {
        var value = Get(key);
        if (value is null)
            return null;
        if (value is not YamlSequenceNode sequence || sequence.Children.Any(c => c is not YamlScalarNode))
            throw Error(value, key, "must be a list of strings");
        return [.. sequence.Children.Cast<YamlScalarNode>().Select(c => c.Value ?? "")];
    }

    /// <summary>A mapping of string to string, in file order; empty when absent.</summary>
    public IReadOnlyList<(string Key, string Value, ConfigException Error)> StringMap(string key)
    {
        var value = Get(key);
        if (value is null)
            return [];
        if (value is not YamlMappingNode mapping)
            throw Error(value, key, "must be a mapping of name: value");
        var entries = new List<(string, string, ConfigException)>();
        foreach (var (k, v) in mapping.Children)
        {
            var name = (k as YamlScalarNode)?.Value ?? "";
            if (v is not YamlScalarNode scalar)
                throw Error(v, $"{key}.{name}", "must be a string");
            entries.Add((name, scalar.Value ?? "", Error(v, $"{key}.{name}", "")));
        }
        return entries;
    }

    /// <summary>An error about this node's own field, for cross-field rules checked by the caller.</summary>
    public ConfigException ErrorAt(string key, string message) => Error(Get(key) ?? node, key, message);

    public void RejectUnknown()
    {
        foreach (var entry in node.Children)
        {
            var key = (entry.Key as YamlScalarNode)?.Value ?? "";
            if (!_read.Contains(key))
                throw Error(entry.Key, key, $"unknown field (did you mean {ClosestMatch.Find(key, _read)}?)");
        }
    }

    private YamlNode? Get(string key)
    {
        _read.Add(key);
        return node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;
    }

    private string Child(string key) => path.Length == 0 ? key : $"{path}.{key}";

    private ConfigException Error(YamlNode at, string key, string message) =>
        new($"{file}:{at.Start.Line}:{at.Start.Column}: {Child(key)}: {message}");
}
