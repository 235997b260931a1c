using System.Text;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Builders;
using ConfigInjector.TestSupport.Fakes;

namespace ConfigInjector.Tests.Backends;

/// <summary>The webhook configured only through config/injector.yaml against the Key Vault fake, with the same annotations.</summary>
public sealed class KeyVaultInjectionTests : IAsyncLifetime
{
    private KeyVaultFake _keyVault = null!;
    private WebhookServer _server = null!;
    private string _version = "";

    public async Task InitializeAsync()
    {
        _keyVault = await KeyVaultFake.StartAsync();
        _version = _keyVault.Set("db-password", "kv-only-password-4e1a");
        _server = await WebhookServer.StartAsync(workDir =>
        {
            Directory.CreateDirectory(Path.Combine(workDir, "config"));
            File.WriteAllText(Path.Combine(workDir, "config", "client-secret"), KeyVaultFake.ClientSecret);
            File.WriteAllText(Path.Combine(workDir, "config", "injector.yaml"), "backends:\n" + KeyVaultTestBackends.ConfigYaml(_keyVault, "kv-prod", "client-secret"));
            File.WriteAllText(Path.Combine(workDir, "examples", "policies", "kv.yaml"), """
                apiVersion: configinjector.io/v1alpha1
                kind: SecretPolicy
                metadata: { name: kv-web }
                spec:
                  subjects: { namespaces: [web] }
                  rules:
                    - backend: kv-prod
                      paths: ["db-*"]
                """);
        });
    }

    public async Task DisposeAsync()
    {
        // Every test of this class ends with the log scanned for the values its backend holds.
        _server.AssertNoValueInLogs("kv-only-");
        await _server.DisposeAsync();
        await _keyVault.DisposeAsync();
    }

    [Fact]
    public async Task Injects_a_key_vault_secret_and_a_pinned_version()
    {
        var newer = _keyVault.Set("db-password", "kv-only-password-rotated-77f0");
        var pod = PodBuilder.Injected().InNamespace("web")
            .WithAnnotation("configinjector.io/secret.DB_PASSWORD", "kv-prod:db-password")
            .WithAnnotation("configinjector.io/file.old-password", $"kv-prod:db-password@{_version}");

        var review = await _server.ReviewPodAsync(pod, "web");

        Assert.True(review.Allowed, review.Message);
        var annotations = PatchOracle.Apply(pod.ToJson(), review.Patch!)["metadata"]!["annotations"]!;
        Assert.Equal(string.Join(",", new[] { $"kv-prod:db-password@{_version}", $"kv-prod:db-password@{newer}" }.Order(StringComparer.Ordinal)), (string?)annotations["configinjector.io/injected"]);
        var secret = _server.Secrets.Find("web", (string)annotations["configinjector.io/managed-secret"]!)!;
        Assert.Equal("kv-only-password-rotated-77f0", Encoding.UTF8.GetString(secret.Data["DB_PASSWORD"]));
        Assert.Equal("kv-only-password-4e1a", Encoding.UTF8.GetString(secret.Data["file.old-password"]));
        Assert.DoesNotContain("kv-only-password", review.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_disabled_secret_denies_the_pod_with_the_reason()
    {
        _keyVault.Set("db-disabled", "x");
        _keyVault.Disable("db-disabled");

        var review = await _server.ReviewPodAsync(PodBuilder.Injected().InNamespace("web").WithAnnotation("configinjector.io/secret.P", "kv-prod:db-disabled"), "web");

        review.AssertDenied();
        Assert.Equal("configinjector: kv-prod:db-disabled: not found: secret db-disabled is disabled", review.Message);
    }
}
