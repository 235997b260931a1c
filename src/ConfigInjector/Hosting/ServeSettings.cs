namespace ConfigInjector.Hosting;

/// <summary>What <c>configinjector serve</c> was asked to do; null paths mean the embedded default.</summary>
public sealed record ServeSettings
{
    public const string DefaultUrl = "https://127.0.0.1:8443";
    public const string DefaultPolicies = Policies.PolicyFolder.Default;

    public IReadOnlyList<string> Urls { get; init; } = [DefaultUrl];

    /// <summary><c>--metrics-urls</c>: extra listeners (http or https) that serve <c>GET /metrics</c> and nothing else.</summary>
    public IReadOnlyList<string> MetricsUrls { get; init; } = [];
    public string? ConfigFile { get; init; }
    public string? PoliciesFolder { get; init; }
    public string? CertFile { get; init; }
    public string? KeyFile { get; init; }
    public string? Kubeconfig { get; init; }

    /// <summary>PEM bundle of the CA that signs the API server's client certificate: admission then requires one.</summary>
    public string? ClientCaFile { get; init; }

    /// <summary><c>--client-subject</c>: CNs or DNS names of the API server's certificate; only it may then POST /mutate-pods.</summary>
    public IReadOnlyList<string> ClientSubjects { get; init; } = [];

    /// <summary><c>--report-client-ca</c>: PEM bundle of the CA that signs the certificates of people who read /report.</summary>
    public string? ReportClientCaFile { get; init; }

    /// <summary><c>--admission-timeout</c>: the admission deadline, over the config file's <c>webhook.admissionTimeout</c>.</summary>
    public TimeSpan? AdmissionTimeout { get; init; }

    /// <summary><c>--report-access</c>: who may open <c>/report</c> (subject:, user:, group: entries); null serves no report.</summary>
    public string? ReportAccess { get; init; }

    /// <summary><c>--refresh-access</c>: who may <c>POST /refresh</c> (the forms of <see cref="ReportAccess"/> plus secret-file:PATH); null serves no /refresh.</summary>
    public string? RefreshAccess { get; init; }

    /// <summary><c>json</c>: one JSON object per log line (scopes as fields); <c>simple</c>: one text line.</summary>
    public string LogFormat { get; init; } = "simple";

    /// <summary>How long to keep serving after SIGTERM with <c>/readyz</c> failing, so endpoints move first.</summary>
    public TimeSpan ShutdownDelay { get; init; } = TimeSpan.Zero;
    /// <summary><c>--release</c>: the install's name, from which its Lease and signing-key Secret are named.</summary>
    public string Release { get; init; } = ReleaseNames.DefaultRelease;

    internal Sync.LeaseIdentity? LeaseIdentity { get; init; }

    /// <summary>Tests shorten the Kubernetes adapter's timings (e.g. how often Event counts are written).</summary>
    internal Kubernetes.KubernetesTimings? KubernetesTimings { get; init; }
    public string WorkingDirectory { get; init; } = Directory.GetCurrentDirectory();
    public TimeProvider Time { get; init; } = TimeProvider.System;
}
