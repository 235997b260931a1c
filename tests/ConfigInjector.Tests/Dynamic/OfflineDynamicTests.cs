using ConfigInjector.Cli;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Builders;
using ConfigInjector.TestSupport.Fakes;

namespace ConfigInjector.Tests.Dynamic;

/// <summary>
/// Without a cluster no sync worker renews or revokes a lease, so nothing issues one: <c>inject</c> refuses a dynamic
/// ref as an input error (exit 2) and <c>serve</c> with no kubeconfig denies the pod, each saying why, and the Vault
/// database engine issues nothing.
/// </summary>
public sealed class OfflineDynamicTests : IAsyncLifetime
{
    private const string Reason = "vault-prod:database/creds/shop#password, vault-prod:database/creds/shop#username: dynamic refs are issued only in a cluster, where the sync worker renews and revokes their leases; without one (inject, serve with no kubeconfig) nothing would ever revoke them";

    private VaultFake _vault = null!;

    public async Task InitializeAsync()
    {
        _vault = await VaultFake.StartAsync();
        _vault.AddDatabaseRole("database", "shop", TimeSpan.FromHours(1), TimeSpan.FromHours(24));
    }

    public async Task DisposeAsync() => await _vault.DisposeAsync();

    private string WriteConfig(string dir)
    {
        Directory.CreateDirectory(Path.Combine(dir, "policies"));
        File.WriteAllText(Path.Combine(dir, "token"), VaultFake.RootToken);
        File.WriteAllText(Path.Combine(dir, "policies", "shop.yaml"), ShopPolicy.Dynamic);
        var config = Path.Combine(dir, "injector.yaml");
        File.WriteAllText(config, VaultWebhook.BackendConfig(_vault, Path.Combine(dir, "token"), "vault-prod", "kvVersion: auto", "retry: { attempts: 1 }"));
        return config;
    }

    [Fact]
    public async Task Inject_refuses_a_dynamic_ref_with_exit_2_and_issues_nothing()
    {
        var dir = ScratchDirectory.Create();
        var config = WriteConfig(dir);
        var file = Path.Combine(dir, "shop.yaml");
        await File.WriteAllTextAsync(file, """
            apiVersion: apps/v1
            kind: Deployment
            metadata: { name: shop, namespace: shop }
            spec:
              selector: { matchLabels: { app: shop } }
              template:
                metadata:
                  labels: { app: shop }
                  annotations:
                    configinjector.io/inject: "true"
                    configinjector.io/secret.DB_USER: "vault-prod:database/creds/shop#username"
                    configinjector.io/secret.DB_PASSWORD: "vault-prod:database/creds/shop#password"
                spec: { containers: [{ name: shop, image: shop }] }
            """);

        var (code, output, stderr) = await CliRunner.RunAsync("inject", "-f", file, "--config", config, "--policies", Path.Combine(dir, "policies"));

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("", output);
        Assert.Equal($"configinjector: Deployment shop/shop: {Reason}\n", stderr);
        Assert.Equal(0, _vault.CredentialsIssued);
    }

    [Fact]
    public async Task Serve_without_a_cluster_denies_the_pod_and_issues_nothing()
    {
        await using var server = await WebhookServer.StartAsync(work => WriteConfig(Path.Combine(work, "config")),
            s => s with { ConfigFile = "config/injector.yaml", PoliciesFolder = "config/policies" });
        var pod = PodBuilder.Injected().InNamespace("shop")
            .WithAnnotation("configinjector.io/secret.DB_USER", "vault-prod:database/creds/shop#username")
            .WithAnnotation("configinjector.io/secret.DB_PASSWORD", "vault-prod:database/creds/shop#password");

        var review = await server.ReviewPodAsync(pod, "shop");

        review.AssertDenied();
        Assert.Equal($"configinjector: {Reason}", review.Message);
        Assert.Equal(0, _vault.CredentialsIssued);
        Assert.Empty(server.Secrets.Secrets);
    }
}
