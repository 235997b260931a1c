using System.Text.Json;

namespace ConfigInjector.Core.Patching;

public static class PatchSerializer
{
    /// <summary>Nesting the patch may have: what the injector writes is a few levels deep, so more is a fault, never output.</summary>
    public const int MaxDepth = 64;

    /// <summary>The RFC 6902 document, written straight from the operations (no copy of their values).</summary>
    public static byte[] ToJsonBytes(IReadOnlyList<PatchOperation> ops)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { MaxDepth = MaxDepth }))
        {
            writer.WriteStartArray();
            foreach (var op in ops)
            {
                writer.WriteStartObject();
                writer.WriteString("op", op.Op);
                writer.WriteString("path", op.Path);
                if (op.Value is not null)
                {
                    writer.WritePropertyName("value");
                    op.Value.WriteTo(writer);
                }
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
