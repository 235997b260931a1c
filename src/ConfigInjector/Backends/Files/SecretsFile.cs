using ConfigInjector.Configuration;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ConfigInjector.Backends.Files;

/// <summary>Parses the file backend's YAML: a mapping of secret path → mapping of key → string value.</summary>
internal static class SecretsFile
{
    public static Dictionary<string, IReadOnlyDictionary<string, string>> Parse(string text, string file)
    {
        YamlStream stream;
        try
        {
            stream = Manifests.BoundedYaml.Load(text);
        }
        catch (YamlException e)
        {
            // The parser's message can quote the offending text, which may be a value: report the position only.
            throw new ConfigException($"{file}:{e.Start.Line}:{e.Start.Column}: not valid YAML{Manifests.YamlLimitException.Describe(e)}");
        }
        var result = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
        if (stream.Documents.Count == 0)
            return result;
        if (stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new ConfigException($"{file}:1:1: expected a mapping of secret path -> {{key: value}}");

        foreach (var (pathNode, keysNode) in root.Children)
        {
            var path = ((YamlScalarNode)pathNode).Value ?? "";
            if (keysNode is not YamlMappingNode keys)
                throw new ConfigException($"{file}:{keysNode.Start.Line}:{keysNode.Start.Column}: {path}: expected a mapping of key -> value");
            var data = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (keyNode, valueNode) in keys.Children)
            {
                var key = ((YamlScalarNode)keyNode).Value ?? "";
                if (valueNode is not YamlScalarNode scalar)
                    throw new ConfigException($"{file}:{valueNode.Start.Line}:{valueNode.Start.Column}: {path}#{key}: the value must be a string");
                data[key] = scalar.Value ?? "";
            }
            result[path] = data;
        }
        return result;
    }
}
