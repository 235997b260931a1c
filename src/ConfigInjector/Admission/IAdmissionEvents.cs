namespace ConfigInjector.Admission;

/// <summary>What admission records beyond its answer: refs skipped under <c>onBackendError: skip</c> (DESIGN.md §4).</summary>
internal interface IAdmissionEvents
{
    void Skipped(AdmissionInput input, IReadOnlyList<string> skipped);
}
