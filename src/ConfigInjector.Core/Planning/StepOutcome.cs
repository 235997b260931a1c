namespace ConfigInjector.Core.Planning;

/// <summary>
/// The result of a planning step: <see cref="Value"/> when it can go on; otherwise a rejection (<see cref="Errors"/>)
/// or, with neither, nothing to do for this pod.
/// </summary>
public sealed record StepOutcome<T>(T? Value, IReadOnlyList<string> Errors, IReadOnlyList<string> Warnings, bool PolicyDenied = false)
    where T : class
{
    public bool Rejected => Errors.Count > 0;

    /// <summary>On a rejection before any read: every ref the pod asked for, for the audit line.</summary>
    public IReadOnlyList<string> Requested { get; init; } = [];

}
