namespace ConfigInjector.Admission;

/// <summary>Out of a cluster there is nowhere to put an Event: the log line is the record.</summary>
internal sealed partial class LoggedAdmissionEvents(ILogger<LoggedAdmissionEvents> log) : IAdmissionEvents
{
    public void Skipped(AdmissionInput input, IReadOnlyList<string> skipped) =>
        LogSkipped(log, input.Namespace, input.Pod.Metadata?.Name ?? input.Pod.Metadata?.GenerateName ?? "", string.Join("; ", skipped));

    [LoggerMessage(Level = LogLevel.Warning, Message = "pod {Namespace}/{Pod} admitted without refs whose backend failed (onBackendError: skip): {Skipped}")]
    private static partial void LogSkipped(ILogger logger, string @namespace, string pod, string skipped);
}
