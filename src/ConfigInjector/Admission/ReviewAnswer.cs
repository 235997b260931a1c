using System.Buffers;
using System.Text.Json;

namespace ConfigInjector.Admission;

/// <summary>
/// The AdmissionReview answer written with one per-thread <see cref="Utf8JsonWriter"/>: the same bytes the source-generated
/// <see cref="AdmissionJson"/> context writes for an <see cref="AdmissionReview"/> holding only a response (camelCase, nulls
/// left out), without building the objects or a base64 string first.
/// </summary>
internal static class ReviewAnswer
{
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    /// <summary>
    /// Sets the response's type and length and puts the answer in its body writer, synchronously (the per-thread writer
    /// is free again before the caller awaits the flush). Written in full first, so the length is known: no chunking.
    /// </summary>
    public static void WriteTo(HttpResponse response, string uid, AdmissionVerdict verdict)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer);
        writer.Reset(buffer);
        Write(writer, uid, verdict);
        writer.Flush();
        response.ContentType = "application/json";
        response.ContentLength = buffer.WrittenCount;
        response.BodyWriter.Write(buffer.WrittenSpan);
        if (buffer.Capacity > 64 * 1024)
        {
            // A huge answer (a patch of thousands of env vars) is not kept for the life of the thread.
            t_buffer = null;
            t_writer = null;
        }
    }

    private static void Write(Utf8JsonWriter writer, string uid, AdmissionVerdict verdict)
    {
        writer.WriteStartObject();
        writer.WriteString("apiVersion"u8, "admission.k8s.io/v1"u8);
        writer.WriteString("kind"u8, "AdmissionReview"u8);
        writer.WriteStartObject("response"u8);
        writer.WriteString("uid"u8, uid);
        writer.WriteBoolean("allowed"u8, verdict.Allowed);
        if (verdict.Patch is not null)
        {
            writer.WriteString("patchType"u8, "JSONPatch"u8);
            writer.WriteBase64String("patch"u8, verdict.Patch);
        }
        if (verdict.Warnings.Count > 0)
        {
            writer.WriteStartArray("warnings"u8);
            foreach (var warning in verdict.Warnings)
                writer.WriteStringValue(warning);
            writer.WriteEndArray();
        }
        if (verdict.Code is { } code)
        {
            writer.WriteStartObject("status"u8);
            writer.WriteNumber("code"u8, code);
            if (verdict.Message is not null)
                writer.WriteString("message"u8, verdict.Message);
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
        writer.WriteEndObject();
    }
}
