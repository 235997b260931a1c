namespace ConfigInjector.Admission;

/// <summary>
/// Out of a cluster there is nowhere to put an Event: the log line is the record. A denial has its audit line
/// already; warnings get a line when a controller made the pod, since nobody else reads them.
/// </summary>
internal sealed partial class LoggedAdmissionEvents(ILogger<LoggedAdmissionEvents> log) : IAdmissionEvents
{
    public void Skipped(AdmissionInput input, IReadOnlyList<string> skipped) =>
        LogSkipped(log, input.Namespace, input.PodName, string.Join("; ", skipped));

    public void Answered(AdmissionInput input, AdmissionVerdict verdict)
    {
        if (input.Controller is { } owner && verdict.Warnings.Count > 0)
            LogWarned(log, input.Namespace, owner.Kind, owner.Name, string.Join("; ", verdict.Warnings));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "pod {Namespace}/{Pod} admitted without refs whose backend failed (onBackendError: skip): {Skipped}")]
    private static partial void LogSkipped(ILogger logger, string @namespace, string pod, string skipped);

    [LoggerMessage(Level = LogLevel.Information, Message = "admission warnings for a pod of {Kind} {Namespace}/{Owner}: {Warnings}")]
    private static partial void LogWarned(ILogger logger, string @namespace, string kind, string owner, string warnings);
}
