using ConfigInjector.Sync;
using ConfigInjector.TestSupport.Fakes;

namespace ConfigInjector.Tests.Sync;

/// <summary>
/// A SecretPolicy revoked while a pass is reading the vault: the pass decides what to write with the policies as they
/// are after the read, so the revoked ref's new value never reaches the Secret.
/// </summary>
public sealed class PolicyRevokedMidPassTests : IAsyncLifetime
{
    private SyncHarness _sync = null!;

    public async Task InitializeAsync()
    {
        _sync = await SyncHarness.StartAsync();
        _sync.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "shop-password-v1" });
        _sync.Policies.Allow("shop", "shop", null, "secret/shop/**");
    }

    public async Task DisposeAsync() => await _sync.DisposeAsync();

    [Fact]
    public async Task A_policy_revoked_during_the_read_keeps_the_last_value()
    {
        var secret = _sync.AddManaged("shop", "configinjector-web", "default", "DB_PASSWORD", "vault-prod:secret/shop/db#password", "shop-password-v1");
        _sync.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "shop-password-v2" });
        _sync.Vault.OnRequest = path =>
        {
            if (path.StartsWith("secret/data/shop/", StringComparison.Ordinal))
                _sync.Policies.Policies.Clear();
        };

        var result = Assert.Single(await _sync.Pass().RunAsync([secret], CancellationToken.None));

        Assert.Equal(ReconcileStatus.Failed, result.Status);
        Assert.Equal("shop-password-v1", _sync.Value("shop", "configinjector-web", "DB_PASSWORD"));
        Assert.Contains(_sync.Api.Events("NotRefreshed"), e => e["message"]!.GetValue<string>().Contains("no SecretPolicy allows", StringComparison.Ordinal));
    }
}
