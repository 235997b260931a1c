using System.Diagnostics;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Fakes;

namespace ConfigInjector.Tests.Sync;

/// <summary>
/// A Vault backend with <c>events: true</c> end to end, through the host's own refresh requester (no recorder): a KV
/// write reaches the managed Secret in the fake API server within seconds although its interval is an hour.
/// </summary>
public sealed class VaultEventsEndToEndTests : IAsyncLifetime
{
    private ClusterEnvironment _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ClusterEnvironment.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_kv_write_updates_the_managed_secret_within_seconds_on_an_hour_long_interval()
    {
        var server = await _cluster.StartReplicaAsync(vaultAuth: "auth: { token: { file: token } }\n    events: true", rotation: "{ interval: 1h, onChange: restart }", steadyLeader: true);
        await server.UntilLeadingAndSyncedAsync();
        await Eventually.TrueAsync(() => _cluster.Vault.EventSubscriptions == 1, "the leader subscribed", TimeSpan.FromSeconds(10));
        var name = await _cluster.AdmitAsync(server, ClusterEnvironment.PodOf(_cluster.Api.AddDeployment("shop", "checkout"))
            .WithAnnotation("configinjector.io/secret.DB_PASSWORD", "vault-prod:secret/shop/db#password"), "checkout-1");

        var clock = Stopwatch.StartNew();
        _cluster.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "cluster-only-password-v2", ["user"] = "shop" });

        await Eventually.TrueAsync(() => ClusterEnvironment.SecretValue(_cluster.Api.Get("secrets", "shop", name), "DB_PASSWORD") == "cluster-only-password-v2",
            "the managed Secret to take the new value", TimeSpan.FromSeconds(15));
        // The refresh batch window (2 s) and a tick (1 s) with room for a slow machine; polling would take an hour.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(12), $"{clock.Elapsed} from the write to the Secret updated");
    }
}
