using System.Text.Json;
using System.Text.Json.Serialization;
using ConfigInjector.Core.Policies;

namespace ConfigInjector.Admission;

/// <summary>One structured line per admission decision: who, which refs, the decision and the policy/rule that made it. Never a value.</summary>
internal sealed record AuditEntry(
    DateTimeOffset Time,
    string Namespace,
    string Pod,
    string ServiceAccount,
    string? User,
    IReadOnlyList<string> Refs,
    string Decision,
    IReadOnlyList<string> Rules,
    string? Reason);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AuditEntry))]
internal sealed partial class AuditJson : JsonSerializerContext;

internal sealed partial class AuditLog(ILoggerFactory logs, TimeProvider time)
{
    private readonly ILogger _log = logs.CreateLogger("ConfigInjector.Audit");

    /// <param name="requested">Every ref the pod asked for, also those never evaluated because an earlier check failed.</param>
    public void Write(AdmissionInput input, Subject subject, IEnumerable<string> requested, IEnumerable<PolicyDecision> decisions, string decision, string? reason)
    {
        if (!_log.IsEnabled(LogLevel.Information))
            return;
        var list = decisions.ToList();
        var entry = new AuditEntry(
            time.GetUtcNow(),
            input.Namespace,
            input.PodName,
            subject.ServiceAccount,
            input.User,
            [.. requested.Concat(list.Select(d => d.Ref.ToString())).Distinct().Order(StringComparer.Ordinal)],
            decision,
            [.. list.Where(d => d.Allowed).Select(d => $"{d.Policy}/rules[{d.RuleIndex}]").Distinct().Order(StringComparer.Ordinal)],
            reason);
        LogAudit(_log, JsonSerializer.Serialize(entry, AuditJson.Default.AuditEntry));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Audit}")]
    private static partial void LogAudit(ILogger logger, string audit);
}
