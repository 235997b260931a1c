using System.Text.Json;
using ConfigInjector.Core.Report;
using ConfigInjector.Sync;

namespace ConfigInjector.Report;

/// <summary>The JSON answers of <c>/refresh</c>: patterns and counts, never a value.</summary>
internal static class RefreshAnswer
{
    public static async Task WriteAsync(HttpContext context, int status, Action<Utf8JsonWriter> fields)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            fields(writer);
            writer.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        await context.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted);
    }

    public static void Outcome(Utf8JsonWriter writer, string trigger, RefreshOutcome outcome, int ignoredEvents)
    {
        writer.WriteString("trigger", trigger);
        Strings(writer, "matched", outcome.Matched);
        Strings(writer, "unknown", outcome.Unknown);
        writer.WriteNumber("secretsMadeDue", outcome.SecretsMadeDue);
        writer.WriteNumber("ignoredEvents", ignoredEvents);
    }

    /// <summary>The first patterns, for one log line.</summary>
    public static string Patterns(IReadOnlyList<RefPattern> patterns) =>
        patterns.Count <= 10 ? string.Join(", ", patterns) : $"{string.Join(", ", patterns.Take(10))} and {patterns.Count - 10} more";

    private static void Strings(Utf8JsonWriter writer, string name, IReadOnlyList<RefPattern> patterns)
    {
        writer.WriteStartArray(name);
        foreach (var pattern in patterns)
            writer.WriteStringValue(pattern.ToString());
        writer.WriteEndArray();
    }
}
