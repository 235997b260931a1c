using System.Text;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Builders;
using ConfigInjector.TestSupport.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace ConfigInjector.Tests.Backends;

/// <summary>
/// The webhook configured only through config/injector.yaml against the Vault fake: the same annotations as the
/// file backend, and onBackendError (deny / allow-stale / skip) when Vault is sealed.
/// </summary>
public sealed class VaultInjectionTests : IAsyncLifetime
{
    private static readonly string[] Modes = ["deny", "allow-stale", "skip"];

    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private VaultFake _vault = null!;
    private WebhookServer _server = null!;

    public async Task InitializeAsync()
    {
        _vault = await VaultFake.StartAsync();
        _vault.EnableKv("secret", 2);
        _vault.Put("secret/payments/db", new Dictionary<string, string> { ["password"] = "vault-only-password-81b7", ["user"] = "payments" });
        _server = await WebhookServer.StartAsync(workDir =>
        {
            Directory.CreateDirectory(Path.Combine(workDir, "config"));
            File.WriteAllText(Path.Combine(workDir, "config", "token"), VaultFake.RootToken);
            File.WriteAllText(Path.Combine(workDir, "config", "injector.yaml"), $"""
                backends:
                  - name: vault-prod
                    type: vault
                    address: {_vault.Address}
                    caFile: {_vault.CaFile}
                    kvVersion: auto
                    retry: {"{"} attempts: 1 {"}"}
                    auth:
                      token: {"{"} file: token {"}"}
                cache: {"{"} ttl: 1m {"}"}
                """);
            File.WriteAllText(Path.Combine(workDir, "examples", "policies", "vault.yaml"), string.Join("---\n", Modes.Select(mode => $"""
                apiVersion: configinjector.io/v1alpha1
                kind: SecretPolicy
                metadata: {"{"} name: payments-{mode} {"}"}
                spec:
                  subjects: {"{"} namespaces: [payments-{mode}] {"}"}
                  rules:
                    - backend: vault-prod
                      paths: ["secret/payments/**"]
                  onBackendError: {mode}

                """)));
        }, settings: s => s with { Time = _time });
    }

    public async Task DisposeAsync()
    {
        // Every test of this class ends with the log scanned for the values its backend holds.
        _server.AssertNoValueInLogs("vault-only-");
        await _server.DisposeAsync();
        await _vault.DisposeAsync();
    }

    private static PodBuilder Pod(string ns) => PodBuilder.Injected().InNamespace(ns)
        .WithAnnotation("configinjector.io/secret.DB_PASSWORD", "vault-prod:secret/payments/db#password")
        .WithAnnotation("configinjector.io/file.db-user", "vault-prod:secret/payments/db#user");

    [Fact]
    public async Task Injects_from_vault_with_the_same_annotations_and_versions_in_the_marker()
    {
        var pod = Pod("payments-deny");

        var review = await _server.ReviewPodAsync(pod, "payments-deny");

        Assert.True(review.Allowed, review.Message);
        var patched = PatchOracle.Apply(pod.ToJson(), review.Patch!);
        Assert.Equal("vault-prod:secret/payments/db#password@1,vault-prod:secret/payments/db#user@1", (string?)patched["metadata"]!["annotations"]!["configinjector.io/injected"]);
        var secret = _server.Secrets.Find("payments-deny", (string)patched["metadata"]!["annotations"]!["configinjector.io/managed-secret"]!)!;
        Assert.Equal("vault-only-password-81b7", Encoding.UTF8.GetString(secret.Data["DB_PASSWORD"]));
        Assert.DoesNotContain("vault-only-password-81b7", review.Body, StringComparison.Ordinal);
        Assert.Equal(1, _vault.Count("GET secret/data/payments/db"));
    }

    [Fact]
    public async Task A_sealed_vault_denies_serves_stale_or_skips_as_each_policy_says()
    {
        foreach (var ns in new[] { "payments-deny", "payments-allow-stale", "payments-skip" })
            Assert.True((await _server.ReviewPodAsync(Pod(ns), ns)).Allowed);
        _vault.Sealed = true;
        _time.Advance(TimeSpan.FromMinutes(2)); // past the cache TTL: the next admission asks Vault

        var denied = await _server.ReviewPodAsync(Pod("payments-deny"), "payments-deny");
        var stale = await _server.ReviewPodAsync(Pod("payments-allow-stale"), "payments-allow-stale");
        var skipped = await _server.ReviewPodAsync(Pod("payments-skip"), "payments-skip");

        denied.AssertDenied();
        Assert.Equal("configinjector: vault-prod:secret/payments/db#password: backend error: vault HTTP 503: Vault is sealed; vault-prod:secret/payments/db#user: backend error: vault HTTP 503: Vault is sealed", denied.Message);

        Assert.True(stale.Allowed);
        Assert.Contains("vault-prod:secret/payments/db#password: backend error (vault HTTP 503: Vault is sealed); using the last-known-good value (onBackendError: allow-stale)", stale.Warnings);
        Assert.Contains("DB_PASSWORD", stale.PatchText, StringComparison.Ordinal);

        Assert.True(skipped.Allowed);
        Assert.Contains("vault-prod:secret/payments/db#password: backend error (vault HTTP 503: Vault is sealed); not injected (onBackendError: skip)", skipped.Warnings);
        Assert.DoesNotContain("DB_PASSWORD", skipped.PatchText, StringComparison.Ordinal);
        Assert.Contains("admitted without refs whose backend failed (onBackendError: skip): vault-prod:secret/payments/db#password: vault HTTP 503: Vault is sealed", _server.AllLogText(), StringComparison.Ordinal);

        foreach (var review in new[] { denied, stale, skipped })
            Assert.DoesNotContain("vault-only-password-81b7", review.Body, StringComparison.Ordinal);
    }
}
