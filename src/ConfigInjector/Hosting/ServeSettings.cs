namespace ConfigInjector.Hosting;

/// <summary>What <c>configinjector serve</c> was asked to do; null paths mean the embedded default.</summary>
public sealed record ServeSettings
{
    public const string DefaultUrl = "https://127.0.0.1:8443";
    public const string DefaultPolicies = "examples/policies";

    public IReadOnlyList<string> Urls { get; init; } = [DefaultUrl];
    public string? ConfigFile { get; init; }
    public string? PoliciesFolder { get; init; }
    public string? CertFile { get; init; }
    public string? KeyFile { get; init; }
    public string? Kubeconfig { get; init; }

    /// <summary>PEM bundle of the CA that signs the API server's client certificate: admission then requires one.</summary>
    public string? ClientCaFile { get; init; }
    public Sync.LeaseIdentity? LeaseIdentity { get; init; }
    public string WorkingDirectory { get; init; } = Directory.GetCurrentDirectory();
    public TimeProvider Time { get; init; } = TimeProvider.System;
}
