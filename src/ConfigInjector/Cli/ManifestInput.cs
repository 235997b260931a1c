using System.Text.Json.Nodes;
using ConfigInjector.Configuration;
using ConfigInjector.Manifests;
using YamlDotNet.Core;

namespace ConfigInjector.Cli;

/// <summary>The <c>-f FILE|-</c> of the verbs that read manifests: bounded, YAML or JSON, multi-document, one-line errors.</summary>
internal static class ManifestInput
{
    public static async Task<IReadOnlyList<JsonNode?>> ReadAsync(string path, CancellationToken cancellationToken)
    {
        string text;
        try
        {
            text = await ReadBoundedAsync(path, cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"-f {path}: {e.Message}");
        }
        try
        {
            return YamlJson.Parse(text);
        }
        catch (YamlException e)
        {
            throw new ConfigException($"{path}:{e.Start.Line}:{e.Start.Column}: not valid YAML or JSON{YamlLimitException.Describe(e)}");
        }
    }

    /// <summary>Every object of the documents, the items of a <c>List</c> kind included.</summary>
    public static IEnumerable<JsonObject> Objects(IEnumerable<JsonNode?> documents)
    {
        foreach (var document in documents.OfType<JsonObject>())
        {
            if (document["kind"]?.GetValue<string>() is { } kind && kind.EndsWith("List", StringComparison.Ordinal) && document["items"] is JsonArray items)
            {
                foreach (var item in Objects(items))
                    yield return item;
            }
            else
            {
                yield return document;
            }
        }
    }

    /// <summary>The manifest text, refused past <see cref="BoundedYaml.MaxBytes"/> before it is all in memory.</summary>
    private static async Task<string> ReadBoundedAsync(string path, CancellationToken cancellationToken)
    {
        using var file = path == "-" ? null : new StreamReader(path);
        var reader = file ?? Console.In;
        var buffer = new char[BoundedYaml.MaxBytes + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await reader.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
            length += read;
        if (length > BoundedYaml.MaxBytes)
            throw new ConfigException($"-f {path}: more than {BoundedYaml.MaxBytes} characters; split the manifests");
        return new string(buffer, 0, length);
    }
}
