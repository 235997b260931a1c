using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Policies;
using ConfigInjector.Tests.Sync;

namespace ConfigInjector.Tests.Dynamic;

/// <summary>The rotation pass leaves the keys of dynamic refs to the lease keeper: never read, kept when other keys rotate.</summary>
public sealed class DynamicRotationTests : IAsyncLifetime
{
    private SyncHarness _harness = null!;

    public async Task InitializeAsync()
    {
        _harness = await SyncHarness.StartAsync();
        _harness.Vault.AddDatabaseRole("database", "shop", TimeSpan.FromHours(1), TimeSpan.FromHours(2));
        _harness.Policies.Policies.Add(new SecretPolicy("shop", new PolicySubjects(["shop"], null),
            [new PolicyRule("vault-prod", ["database/creds/shop"], null) { Dynamic = true }, new PolicyRule("vault-prod", ["secret/**"], null)],
            new RotationSettings(TimeSpan.FromMinutes(5), RotationMode.None), BackendErrorMode.Deny));
    }

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    [Fact]
    public async Task A_rotation_pass_never_reads_a_dynamic_ref_and_keeps_its_key_when_another_key_rotates()
    {
        _harness.Vault.Put("secret/shop/api", new Dictionary<string, string> { ["key"] = "old" });
        _harness.Vault.Put("secret/shop/api", new Dictionary<string, string> { ["key"] = "new" });
        var secret = _harness.AddManaged("shop", "configinjector-shop-1", "api", new Dictionary<string, (string, string)>
        {
            ["DB_USER"] = ("vault-prod:database/creds/shop#username", "v-token-shop-issued"),
            ["API_KEY"] = ("vault-prod:secret/shop/api#key", "old"),
        });

        var results = await _harness.Pass().RunAsync([secret], CancellationToken.None);

        // Read, the ref would fail as a non-KV path every pass (an Event, a backoff): it is not even looked up.
        Assert.Equal((ConfigInjector.Sync.ReconcileStatus.Updated, null), (results.Single().Status, results.Single().Reason));
        Assert.Equal(("new", "v-token-shop-issued"), (_harness.Value("shop", "configinjector-shop-1", "API_KEY"), _harness.Value("shop", "configinjector-shop-1", "DB_USER")));
        Assert.Contains("database/creds/shop#username", _harness.Read("shop", "configinjector-shop-1").Metadata.Annotations["configinjector.io/sources"], StringComparison.Ordinal);
        Assert.Equal((0, 0), (_harness.Vault.Count("GET sys/internal/ui/mounts/database/"), _harness.Vault.CredentialsIssued));
    }
}
