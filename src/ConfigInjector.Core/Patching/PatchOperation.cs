using System.Text.Json.Nodes;

namespace ConfigInjector.Core.Patching;

/// <summary>One RFC 6902 operation. Only <c>add</c> and <c>replace</c> of single items are ever produced.</summary>
public sealed record PatchOperation(string Op, string Path, JsonNode? Value)
{
    public static PatchOperation Add(string path, JsonNode? value) => new("add", path, value);

    public static PatchOperation Replace(string path, JsonNode? value) => new("replace", path, value);
}

/// <summary>RFC 6901 JSON pointer escaping: '~' becomes "~0" and '/' becomes "~1".</summary>
public static class JsonPointer
{
    public static string Escape(string token) => token.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);
}
