using YamlDotNet.RepresentationModel;

namespace ConfigInjector.TestSupport;

/// <summary>The secret values of examples/dev-secrets.yaml (all marked "dev-only"): what must never appear outside a managed Secret.</summary>
public static class DevSecrets
{
    public static IReadOnlyList<string> Values(string? file = null)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(file ?? Path.Combine(RepoPaths.Examples, "dev-secrets.yaml"))));
        var root = (YamlMappingNode)stream.Documents[0].RootNode;
        return [.. root.Children.Values.Cast<YamlMappingNode>().SelectMany(m => m.Children.Values).Cast<YamlScalarNode>().Select(s => s.Value!).Where(v => v.Contains("dev-only", StringComparison.Ordinal))];
    }
}
