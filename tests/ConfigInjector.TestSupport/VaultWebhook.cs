using ConfigInjector.TestSupport.Fakes;

namespace ConfigInjector.TestSupport;

/// <summary>A webhook server whose one backend, <c>vault-prod</c>, is the Vault fake, allowed by one SecretPolicy.</summary>
public static class VaultWebhook
{
    /// <summary>The <c>backends:</c> entry for the fake, with a token file holding its root token; more fields in <paramref name="backendFields"/>.</summary>
    public static string BackendConfig(VaultFake vault, string tokenFile, string name = "vault-prod", params string[] backendFields) =>
        $"backends:\n  - name: {name}\n    type: vault\n    address: {vault.Address}\n    caFile: {vault.CaFile}\n"
        + string.Concat(backendFields.Select(f => $"    {f}\n"))
        + $"    auth: {{ token: {{ file: {tokenFile} }} }}\n";

    /// <param name="configTail">Top-level config after the backends (e.g. <c>webhook: { admissionTimeout: 300ms }</c>).</param>
    public static Task<WebhookServer> StartAsync(VaultFake vault, string[] backendFields, string paths = "secret/**", string? onBackendError = null,
        string configTail = "", Func<Hosting.ServeSettings, Hosting.ServeSettings>? settings = null) =>
        WebhookServer.StartAsync(work =>
        {
            var config = Path.Combine(work, "config");
            Directory.CreateDirectory(config);
            File.WriteAllText(Path.Combine(config, "token"), VaultFake.RootToken);
            File.WriteAllText(Path.Combine(config, "injector.yaml"), BackendConfig(vault, Path.Combine(config, "token"), "vault-prod", backendFields) + configTail);
            File.WriteAllText(Path.Combine(work, "examples", "policies", "vault.yaml"), $$"""
                apiVersion: configinjector.io/v1alpha1
                kind: SecretPolicy
                metadata: { name: vault }
                spec:
                  subjects: { namespaces: ["*"] }
                  rules: [ { backend: vault-prod, paths: ["{{paths}}"] } ]
                {{(onBackendError is null ? "" : "  onBackendError: " + onBackendError)}}
                """);
        }, s => (settings?.Invoke(s) ?? s) with { ConfigFile = "config/injector.yaml" });
}
