namespace ConfigInjector.Admission;

/// <summary>Event reasons admission writes on the pod's controller. Stable: users filter on them.</summary>
internal static class AdmissionEventReasons
{
    public const string SecretSkipped = "SecretSkipped";
    public const string InjectionWarning = "InjectionWarning";
    public const string InjectionDenied = "InjectionDenied";
}
