using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace ConfigInjector.Hosting;

/// <summary>
/// <c>--log-format json</c>: the fields of the built-in JSON console formatter (Timestamp, EventId, LogLevel, Category,
/// Message, State, Scopes), plus <c>trace_id</c> and <c>span_id</c> of the current span at the top level, where log
/// pipelines look for them to join a line to its trace. The built-in one can only nest them inside Scopes.
/// </summary>
internal sealed class JsonLogFormatter(IOptionsMonitor<JsonConsoleFormatterOptions> options) : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "configinjector-json";

    // One buffer per thread, reset for each line, as the audit log does.
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter?.Invoke(logEntry.State, logEntry.Exception);
        if (logEntry.Exception is null && message is null)
            return;
        var settings = options.CurrentValue;
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(buffer, settings.JsonWriterOptions))
        {
            writer.WriteStartObject();
            if (settings.TimestampFormat is { } format)
                writer.WriteString("Timestamp", (settings.UseUtcTimestamp ? DateTimeOffset.UtcNow : DateTimeOffset.Now).ToString(format, CultureInfo.InvariantCulture));
            writer.WriteNumber("EventId", logEntry.EventId.Id);
            writer.WriteString("LogLevel", logEntry.LogLevel.ToString());
            writer.WriteString("Category", logEntry.Category);
            writer.WriteString("Message", message);
            if (Activity.Current is { } span)
            {
                writer.WriteString("trace_id", span.TraceId.ToHexString());
                writer.WriteString("span_id", span.SpanId.ToHexString());
            }
            if (logEntry.Exception is { } exception)
                writer.WriteString("Exception", exception.ToString());
            if (logEntry.State is { } state)
            {
                writer.WriteStartObject("State");
                writer.WriteString("Message", state.ToString());
                if (state is IReadOnlyCollection<KeyValuePair<string, object?>> fields)
                    WriteFields(writer, fields);
                writer.WriteEndObject();
            }
            if (settings.IncludeScopes && scopeProvider is not null)
            {
                writer.WriteStartArray("Scopes");
                scopeProvider.ForEachScope(static (scope, w) => WriteScope(w, scope), writer);
                writer.WriteEndArray();
            }
            writer.WriteEndObject();
        }
        textWriter.Write(Encoding.UTF8.GetString(buffer.WrittenSpan));
        textWriter.Write(Environment.NewLine);
        if (buffer.Capacity > 64 * 1024)
            t_buffer = null;
    }

    private static void WriteScope(Utf8JsonWriter writer, object? scope)
    {
        if (scope is IEnumerable<KeyValuePair<string, object?>> fields)
        {
            writer.WriteStartObject();
            writer.WriteString("Message", scope.ToString());
            WriteFields(writer, fields);
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteStringValue(Convert.ToString(scope, CultureInfo.InvariantCulture));
        }
    }

    private static void WriteFields(Utf8JsonWriter writer, IEnumerable<KeyValuePair<string, object?>> fields)
    {
        foreach (var (key, value) in fields)
        {
            switch (value)
            {
                case null:
                    writer.WriteNull(key);
                    break;
                case bool b:
                    writer.WriteBoolean(key, b);
                    break;
                case ulong u:
                    writer.WriteNumber(key, u);
                    break;
                case int or long or short or byte or uint or ushort or sbyte:
                    writer.WriteNumber(key, Convert.ToInt64(value, CultureInfo.InvariantCulture));
                    break;
                case double or float or decimal:
                    writer.WriteNumber(key, Convert.ToDouble(value, CultureInfo.InvariantCulture));
                    break;
                default:
                    writer.WriteString(key, Convert.ToString(value, CultureInfo.InvariantCulture));
                    break;
            }
        }
    }
}
