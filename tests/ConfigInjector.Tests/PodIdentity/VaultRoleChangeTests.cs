using ConfigInjector.Backends.Vault;
using ConfigInjector.Sync;
using ConfigInjector.Tests.Sync;
using ConfigInjector.TestSupport.Fakes;

namespace ConfigInjector.Tests.PodIdentity;

/// <summary>
/// A service account's <c>configinjector.io/vault-role</c> changed while its Vault token is still good: the rotation
/// pass reads as the new role within a minute (the annotation is read again once a minute), not once Vault stops
/// renewing the old token, which a renewable role may allow for days. On a fake clock shared by the API server fake
/// and the Vault fake.
/// </summary>
public sealed class VaultRoleChangeTests : IAsyncLifetime
{
    private SyncHarness _sync = null!;

    public async Task InitializeAsync()
    {
        _sync = await SyncHarness.StartAsync(sharedClock: true);
        _sync.Vault.ConfigureKubernetesAuth("kubernetes", _sync.Api.Address);
        _sync.Policies.Allow("shop", "shop", null, "secret/shop/**");
        _sync.Api.AddServiceAccount("shop", "app");
        // The role the backend's template names reads all of the shop; the narrower one only the app's database.
        _sync.Vault.AddKubernetesRole("kubernetes", "shop-app", ["app"], ["shop"], "vault", TimeSpan.FromHours(1), ["secret/data/shop/"]);
        _sync.Vault.AddKubernetesRole("kubernetes", "shop-db-only", ["app"], ["shop"], "vault", TimeSpan.FromHours(1), ["secret/data/shop/db"]);
        foreach (var name in new[] { "db", "payments" })
        {
            _sync.Vault.Put($"secret/shop/{name}", new Dictionary<string, string> { ["value"] = $"{name}-v1" });
            _sync.AddManaged("shop", $"app-{name}", "app", "VALUE", $"vault-prod:secret/shop/{name}#value", $"{name}-v1");
        }
    }

    public async Task DisposeAsync() => await _sync.DisposeAsync();

    private async Task<Dictionary<string, ReconcileResult>> RunAsync(RotationPass pass) =>
        (await pass.RunAsync([_sync.Read("shop", "app-db"), _sync.Read("shop", "app-payments")], CancellationToken.None)).ToDictionary(r => r.Name);

    private void NameRole(string role) =>
        _sync.Api.Update("serviceaccounts", "shop", "app", sa => sa["metadata"]!["annotations"] = new System.Text.Json.Nodes.JsonObject { [PodKubernetesAuthSettings.RoleAnnotation] = role });

    private void WriteVersion(int version)
    {
        foreach (var name in new[] { "db", "payments" })
            _sync.Vault.Put($"secret/shop/{name}", new Dictionary<string, string> { ["value"] = $"{name}-v{version}" });
    }

    [Fact]
    public async Task A_narrower_role_named_on_the_service_account_applies_within_a_minute_though_the_old_token_is_still_good()
    {
        var pass = _sync.PodPass();
        await RunAsync(pass);
        NameRole("shop-db-only");
        WriteVersion(2);

        // Within the minute the role is taken as read: the token of the broad role still reads both.
        _sync.Time.Advance(ServiceAccountLogin.RoleFreshFor / 2);
        var early = await RunAsync(pass);
        Assert.All(early.Values, r => Assert.True(r.Status == ReconcileStatus.Updated, $"{r.Name}: {r.Status} {r.Reason}"));

        WriteVersion(3);
        _sync.Time.Advance(ServiceAccountLogin.RoleFreshFor / 2);
        var results = await RunAsync(pass);

        // Now as the narrow role: the database rotates, the payments secret is refused by Vault and keeps its value.
        Assert.Equal(ReconcileStatus.Updated, results["app-db"].Status);
        Assert.NotEqual(ReconcileStatus.Updated, results["app-payments"].Status);
        Assert.Contains("shop-db-only", results["app-payments"].Reason, StringComparison.Ordinal);
        Assert.Equal("db-v3", _sync.Value("shop", "app-db", "VALUE"));
        Assert.Equal("payments-v2", _sync.Value("shop", "app-payments", "VALUE"));
        string[] tried = ["shop-app secret/data/shop/db", "shop-app secret/data/shop/payments", "shop-app secret/data/shop/db", "shop-app secret/data/shop/payments",
            "shop-db-only secret/data/shop/db", "shop-db-only secret/data/shop/payments"];
        Assert.Equal(tried.Order(StringComparer.Ordinal), _sync.Vault.ReadsByRole.Order(StringComparer.Ordinal));
        Assert.Equal(2, _sync.Vault.Count("POST auth/kubernetes/login"));
    }

    [Fact]
    public async Task An_unchanged_role_keeps_its_vault_token_and_the_annotation_is_read_once_a_minute()
    {
        var pass = _sync.PodPass();
        await RunAsync(pass);
        await RunAsync(pass);
        Assert.Equal(1, _sync.Api.Count("GET serviceaccounts"));

        _sync.Time.Advance(ServiceAccountLogin.RoleFreshFor);
        var results = await RunAsync(pass);

        Assert.All(results.Values, r => Assert.True(r.Status == ReconcileStatus.Unchanged, $"{r.Name}: {r.Status} {r.Reason}"));
        Assert.Equal(2, _sync.Api.Count("GET serviceaccounts"));
        Assert.Equal(1, _sync.Vault.Count("POST auth/kubernetes/login"));
        Assert.Equal(1, _sync.Api.Count("POST serviceaccounts/token"));
    }

    [Fact]
    public async Task The_api_server_out_of_reach_when_the_role_is_due_again_keeps_the_role_and_its_token()
    {
        var pass = _sync.PodPass();
        await RunAsync(pass);
        _sync.Time.Advance(ServiceAccountLogin.RoleFreshFor);
        _sync.Api.FailNext("GET", "serviceaccounts", 503, count: 1, reason: "ServiceUnavailable");
        WriteVersion(2);

        var results = await RunAsync(pass);

        Assert.Equal(0, _sync.Api.PendingFaults);
        Assert.All(results.Values, r => Assert.True(r.Status == ReconcileStatus.Updated, $"{r.Name}: {r.Status} {r.Reason}"));
        Assert.Equal(1, _sync.Vault.Count("POST auth/kubernetes/login"));
    }

    [Fact]
    public async Task An_api_server_that_stops_answering_when_the_role_is_due_again_does_not_hold_up_the_reads()
    {
        var pass = _sync.PodPass();
        await RunAsync(pass);
        _sync.Time.Advance(ServiceAccountLogin.RoleFreshFor);
        _sync.Api.ServiceAccountGetDelay = TimeSpan.FromMinutes(5);
        WriteVersion(2);

        // The reads wait a couple of seconds (on the shared clock) for the role, then go on with the token held.
        var passing = RunAsync(pass);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!passing.IsCompleted && waited.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(20);
            _sync.Time.Advance(TimeSpan.FromMilliseconds(500));
        }

        Assert.True(passing.IsCompleted, "the pass waited on the API server");
        Assert.All((await passing).Values, r => Assert.True(r.Status == ReconcileStatus.Updated, $"{r.Name}: {r.Status} {r.Reason}"));
        Assert.Equal(1, _sync.Vault.Count("POST auth/kubernetes/login"));
        // The read of the role gives up on its own (30 s): then nothing is left waiting on the API server.
        _sync.Time.Advance(TimeSpan.FromSeconds(30));
        await Eventually.TrueAsync(() => _sync.Api.ServiceAccountGetsWaiting == 0, "the role's read to be given up");
    }

    [Fact]
    public async Task A_deleted_service_account_keeps_its_token_for_what_it_issued_and_its_next_login_is_refused()
    {
        var pass = _sync.PodPass();
        await RunAsync(pass);
        _sync.Api.Delete("serviceaccounts", "shop", "app");
        WriteVersion(2);
        _sync.Time.Advance(ServiceAccountLogin.RoleFreshFor);

        // The token held stays: leases it issued must still be renewable and revocable (the workload may be going too).
        var kept = await RunAsync(pass);
        Assert.All(kept.Values, r => Assert.True(r.Status == ReconcileStatus.Updated, $"{r.Name}: {r.Status} {r.Reason}"));
        Assert.Equal(2, _sync.Api.Count("GET serviceaccounts"));

        // Once Vault ends that token, logging in again is refused, naming the service account.
        _sync.Vault.RevokeAll();
        _sync.Time.Advance(ServiceAccountLogin.RoleFreshFor);
        WriteVersion(3);
        var results = await RunAsync(pass);

        Assert.All(results.Values, r => Assert.NotEqual(ReconcileStatus.Updated, r.Status));
        Assert.All(results.Values, r => Assert.Contains("service account shop/app does not exist", r.Reason, StringComparison.Ordinal));
        Assert.Equal("db-v2", _sync.Value("shop", "app-db", "VALUE"));
        Assert.Equal(1, _sync.Vault.Count("POST auth/kubernetes/login"));
    }
}
