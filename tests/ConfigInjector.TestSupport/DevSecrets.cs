using YamlDotNet.RepresentationModel;

namespace ConfigInjector.TestSupport;

/// <summary>The secret values of examples/dev-secrets.yaml (all marked "dev-only"): what must never appear outside a managed Secret.</summary>
public static class DevSecrets
{
    /// <summary>The version the embedded default gives a path of the examples with the test install's key (<see cref="WebhookFixture.VersionSeed"/>).</summary>
    /// <param name="seed">Another install's seed, e.g. the key file a CLI verb made in its working directory.</param>
    public static string Version(string path, byte[]? seed = null)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(Path.Combine(RepoPaths.Examples, "dev-secrets.yaml"))));
        var keys = (YamlMappingNode)((YamlMappingNode)stream.Documents[0].RootNode).Children[new YamlScalarNode(path)];
        var data = keys.Children.ToDictionary(k => ((YamlScalarNode)k.Key).Value!, k => ((YamlScalarNode)k.Value).Value ?? "", StringComparer.Ordinal);
        return Core.Secrets.ContentVersion.Of(Core.Secrets.ContentVersion.DeriveKey(seed ?? WebhookFixture.VersionSeed), data);
    }

    public static IReadOnlyList<string> Values(string? file = null)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(file ?? Path.Combine(RepoPaths.Examples, "dev-secrets.yaml"))));
        var root = (YamlMappingNode)stream.Documents[0].RootNode;
        return [.. root.Children.Values.Cast<YamlMappingNode>().SelectMany(m => m.Children.Values).Cast<YamlScalarNode>().Select(s => s.Value!).Where(v => v.Contains("dev-only", StringComparison.Ordinal))];
    }
}
