using ConfigInjector.Sync;
using ConfigInjector.TestSupport.Fakes;

namespace ConfigInjector.Tests.Sync;

/// <summary>
/// A backend that fails during a rotation pass: the last-known-good value stays, one Event per reason (not per
/// retry), and the Secret is handed back for a per-Secret backoff instead of its full interval.
/// </summary>
public sealed class BackendFailureTests : IAsyncLifetime
{
    private SyncHarness _sync = null!;

    public async Task InitializeAsync()
    {
        _sync = await SyncHarness.StartAsync();
        _sync.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "shop-password-v1" });
        _sync.Policies.Allow("shop", "shop", null, "secret/shop/**", interval: TimeSpan.FromMinutes(42));
    }

    public async Task DisposeAsync() => await _sync.DisposeAsync();

    [Fact]
    public async Task A_failed_read_keeps_the_value_asks_for_backoff_and_reports_each_reason_once()
    {
        var secret = _sync.AddManaged("shop", "configinjector-web", "default", "DB_PASSWORD", "vault-prod:secret/shop/db#password", "shop-password-v1");
        _sync.Vault.DenyRead("secret/data/shop/");
        var pass = _sync.Pass();

        var first = Assert.Single(await pass.RunAsync([secret], CancellationToken.None));
        var second = Assert.Single(await pass.RunAsync([secret], CancellationToken.None));

        Assert.Equal((ReconcileStatus.Failed, true, TimeSpan.FromMinutes(42)), (first.Status, first.Backoff, first.RequeueAfter));
        Assert.True(second.Backoff);
        Assert.Single(_sync.Api.Events("NotRefreshed"));
        Assert.Equal("shop-password-v1", _sync.Value("shop", "configinjector-web", "DB_PASSWORD"));
        Assert.Equal(0, _sync.Api.Count("PUT secrets"));
    }

    [Fact]
    public async Task A_read_that_succeeds_again_asks_for_no_backoff()
    {
        var secret = _sync.AddManaged("shop", "configinjector-web", "default", "DB_PASSWORD", "vault-prod:secret/shop/db#password", "shop-password-v1");

        var result = Assert.Single(await _sync.Pass().RunAsync([secret], CancellationToken.None));

        Assert.Equal((ReconcileStatus.Unchanged, false), (result.Status, result.Backoff));
    }

    [Fact]
    public async Task One_secret_that_cannot_be_read_again_fails_alone_and_the_rest_of_the_pass_goes_on()
    {
        var kept = _sync.AddManaged("shop", "configinjector-a", "default", "DB_PASSWORD", "vault-prod:secret/shop/db#password", "shop-password-v1");
        var other = _sync.AddManaged("shop", "configinjector-b", "default", "DB_PASSWORD", "vault-prod:secret/shop/db#password", "shop-password-v1");
        kept.Data = null;                                   // kept without values: the pass reads it again...
        _sync.Api.FailNext("GET", "secrets", 404, reason: "NotFound");      // ...and it is gone
        _sync.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "shop-password-v2" });

        var results = await _sync.Pass().RunAsync([kept, other], CancellationToken.None);

        Assert.Equal((ReconcileStatus.Failed, true), results.Where(r => r.Name == "configinjector-a").Select(r => (r.Status, r.Backoff)).Single());
        Assert.Equal(ReconcileStatus.Updated, results.Single(r => r.Name == "configinjector-b").Status);
        Assert.Equal("shop-password-v2", _sync.Value("shop", "configinjector-b", "DB_PASSWORD"));
        Assert.Equal(0, _sync.Api.PendingFaults);
    }
}
