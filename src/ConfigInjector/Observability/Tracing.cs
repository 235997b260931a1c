using System.Diagnostics;

namespace ConfigInjector.Observability;

/// <summary>
/// The spans ConfigInjector makes: one <see cref="ActivitySource"/>, its span names and attribute keys. Without a
/// tracer provider (no OTLP endpoint) the source has no listener and every <c>StartActivity</c> returns null at the
/// cost of one check. Attributes name namespaces, pods, refs, versions and decisions: never a value, token or lease id.
/// </summary>
internal static class Tracing
{
    public const string SourceName = "ConfigInjector";

    public static readonly ActivitySource Source = new(SourceName, typeof(Tracing).Assembly.GetName().Version?.ToString(3));

    public const string Admission = "admission";
    public const string BackendRead = "backend.read";
    public const string VaultLogin = "vault.login";
    public const string TokenRequest = "k8s.token_request";
    public const string SecretWrite = "secret.write";
    public const string RotationPass = "rotation.pass";
    public const string RotationSecret = "rotation.secret";
    public const string Restart = "restart";

    // Kubernetes names as the OpenTelemetry semantic conventions spell them; the rest under configinjector.*.
    public const string Namespace = "k8s.namespace.name";
    public const string Pod = "k8s.pod.name";
    public const string AdmissionUid = "configinjector.admission.uid";
    public const string DryRun = "configinjector.dry_run";
    public const string Refs = "configinjector.refs";
    public const string Rules = "configinjector.rules";
    public const string Decision = "configinjector.decision";
    public const string Result = "configinjector.result";
    public const string Reason = "configinjector.reason";
    public const string Backend = "configinjector.backend";
    public const string Location = "configinjector.location";
    public const string Version = "configinjector.version";
    public const string ServiceAccount = "configinjector.service_account";
    public const string SecretName = "configinjector.secret.name";
    public const string Count = "configinjector.count";
    public const string Workload = "configinjector.workload";
    public const string AuthMethod = "configinjector.auth.method";
    public const string AuthMount = "configinjector.auth.mount";

    /// <summary>Marks the span failed with a one-line reason (a value-free text: the kind shown in logs and Events).</summary>
    /// <returns>False, so it can sit in an exception filter that records and lets the exception pass.</returns>
    public static bool Fail(Activity? span, string reason)
    {
        span?.SetStatus(ActivityStatusCode.Error, reason.ReplaceLineEndings(" "));
        return false;
    }
}
