using System.Text.Json.Serialization;

namespace ConfigInjector.Core.Planning;

/// <summary>
/// The JSON shapes of the managed Secret's annotations (sources, signed owners), compiled at build time: no reflection
/// at run time, and the same text as the reflection-based serializer writes with its defaults (signatures cover it).
/// </summary>
[JsonSerializable(typeof(Dictionary<string, Dictionary<string, string>>))]
[JsonSerializable(typeof(List<Dictionary<string, string?>>))]
internal sealed partial class AnnotationJson : JsonSerializerContext;
