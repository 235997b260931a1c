using ConfigInjector.Core.Annotations;
using k8s.Models;

namespace ConfigInjector.Tests.Sync;

/// <summary>Which rotations roll a workload, decided within one pass: env consumers yes (onChange: restart), file consumers never.</summary>
public sealed class RestartDecisionTests : IAsyncLifetime
{
    private static readonly V1OwnerReference Checkout = new() { ApiVersion = "apps/v1", Kind = "Deployment", Name = "checkout", Uid = "d-1", Controller = true };
    private static readonly V1OwnerReference Proxy = new() { ApiVersion = "apps/v1", Kind = "Deployment", Name = "proxy", Uid = "d-2", Controller = true };
    private SyncHarness _sync = null!;

    public async Task InitializeAsync()
    {
        _sync = await SyncHarness.StartAsync();
        _sync.Vault.Put("secret/shop/tls", new Dictionary<string, string> { ["ca"] = "ca-v2" });
        _sync.Policies.Allow("shop", "shop", null, "secret/shop/**");
    }

    public async Task DisposeAsync() => await _sync.DisposeAsync();

    [Fact]
    public async Task A_changed_file_value_updates_the_secret_and_queues_no_restart()
    {
        var file = _sync.AddManaged("shop", "configinjector-proxy", "default", "file.ca.crt", "vault-prod:secret/shop/tls#ca", "ca-v1", owner: Proxy, onChange: RotationMode.Restart);

        await _sync.Pass().RunAsync([file], CancellationToken.None);

        Assert.Equal("ca-v2", _sync.Value("shop", "configinjector-proxy", "file.ca.crt"));
        Assert.Null(_sync.RestartDue("shop", "configinjector-proxy"));
        Assert.Equal(0, _sync.Restarts.Unresolved);
    }

    [Fact]
    public async Task A_changed_env_value_queues_its_deployment_for_a_restart()
    {
        var env = _sync.AddManaged("shop", "configinjector-checkout", "default", "CA", "vault-prod:secret/shop/tls#ca", "ca-v1", owner: Checkout, onChange: RotationMode.Restart);

        await _sync.Pass().RunAsync([env], CancellationToken.None);

        Assert.Equal("ca-v2", _sync.Value("shop", "configinjector-checkout", "CA"));
        Assert.NotNull(_sync.RestartDue("shop", "configinjector-checkout"));
        Assert.Equal(1, _sync.Restarts.Unresolved);
    }
}
