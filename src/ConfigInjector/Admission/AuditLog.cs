using System.Buffers;
using System.Text;
using System.Text.Json;
using ConfigInjector.Core.Policies;

namespace ConfigInjector.Admission;

/// <summary>One structured line per admission decision: who, which refs, the decision and the policy/rule that made it. Never a value.</summary>
internal sealed partial class AuditLog(ILoggerFactory logs, TimeProvider time)
{
    // One writer per thread, reset for each line: an admission formats its audit line without allocating a writer or a buffer.
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    private readonly ILogger _log = logs.CreateLogger("ConfigInjector.Audit");

    /// <param name="requested">Every ref the pod asked for, also those never evaluated because an earlier check failed.</param>
    public void Write(AdmissionInput input, Subject subject, IEnumerable<string> requested, IEnumerable<PolicyDecision> decisions, string decision, string? reason)
    {
        var span = AdmissionTracing.Current;
        if (!_log.IsEnabled(LogLevel.Information) && span is null)
            return;
        var refs = new SortedSet<string>(requested, StringComparer.Ordinal);
        var rules = new SortedSet<string>(StringComparer.Ordinal);
        (string? Policy, int? Rule) previous = default;
        foreach (var d in decisions)
        {
            refs.Add(d.Ref.ToString());
            // Most refs of a pod are allowed by the same rule: its text is made once per run of them.
            if (d.Allowed && (d.Policy, d.RuleIndex) != previous)
            {
                rules.Add($"{d.Policy}/rules[{d.RuleIndex}]");
                previous = (d.Policy, d.RuleIndex);
            }
        }
        if (span is not null)
            AdmissionTracing.Decided(span, subject, refs, rules, decision);
        if (!_log.IsEnabled(LogLevel.Information))
            return;

        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(512);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer);
        writer.Reset(buffer);
        writer.WriteStartObject();
        writer.WriteString("time"u8, time.GetUtcNow());
        writer.WriteString("namespace"u8, input.Namespace);
        writer.WriteString("pod"u8, input.PodName);
        writer.WriteString("serviceAccount"u8, subject.ServiceAccount);
        if (input.User is { } user)
            writer.WriteString("user"u8, user);
        WriteList(writer, "refs"u8, refs);
        writer.WriteString("decision"u8, decision);
        WriteList(writer, "rules"u8, rules);
        if (reason is not null)
            writer.WriteString("reason"u8, reason);
        writer.WriteEndObject();
        writer.Flush();
        LogAudit(_log, Encoding.UTF8.GetString(buffer.WrittenSpan));
        if (buffer.Capacity > 64 * 1024)
        {
            // A huge line (thousands of refs) is not kept for the life of the thread, by the buffer or by its writer.
            t_buffer = null;
            t_writer = null;
        }
    }

    private static void WriteList(Utf8JsonWriter writer, ReadOnlySpan<byte> name, SortedSet<string> items)
    {
        writer.WriteStartArray(name);
        foreach (var item in items)
            writer.WriteStringValue(item);
        writer.WriteEndArray();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Audit}")]
    private static partial void LogAudit(ILogger logger, string audit);
}
