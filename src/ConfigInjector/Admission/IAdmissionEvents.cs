namespace ConfigInjector.Admission;

/// <summary>
/// What admission records beyond its answer: refs skipped under <c>onBackendError: skip</c> (DESIGN.md §4), and the
/// warnings and denials of a pod a controller creates — the API server hands those to the controller, not to a person.
/// </summary>
internal interface IAdmissionEvents
{
    void Skipped(AdmissionInput input, IReadOnlyList<string> skipped);

    /// <summary>Called for every answered admission that was not a dry run.</summary>
    void Answered(AdmissionInput input, AdmissionVerdict verdict);
}
