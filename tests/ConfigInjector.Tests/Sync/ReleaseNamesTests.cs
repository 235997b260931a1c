using ConfigInjector.Configuration;
using ConfigInjector.Hosting;
using ConfigInjector.Sync;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Fakes;
using Microsoft.Extensions.DependencyInjection;

namespace ConfigInjector.Tests.Sync;

/// <summary>Two installs in one namespace: each keeps its own Lease and signing key, named after its release, so both lead.</summary>
public sealed class ReleaseNamesTests : IAsyncLifetime
{
    private ClusterEnvironment _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ClusterEnvironment.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Two_installs_in_one_namespace_each_lead_on_their_own_lease_and_sign_with_their_own_key()
    {
        var blue = await _cluster.StartReplicaAsync("blue-0", settings: s => s with { Release = "blue" });
        var green = await _cluster.StartReplicaAsync("green-0", settings: s => s with { Release = "green" });

        await Eventually.TrueAsync(() => blue.Services.GetRequiredService<SyncWorker>().IsLeader && green.Services.GetRequiredService<SyncWorker>().IsLeader, "both installs to lead");
        await Eventually.TrueAsync(() => _cluster.Api.Get("secrets", "config-injector", "blue-signing-key") is not null && _cluster.Api.Get("secrets", "config-injector", "green-signing-key") is not null, "both signing keys");

        Assert.Equal("blue-0", _cluster.Api.Get("leases", "config-injector", "blue-sync")!["spec"]!["holderIdentity"]!.GetValue<string>());
        Assert.Equal("green-0", _cluster.Api.Get("leases", "config-injector", "green-sync")!["spec"]!["holderIdentity"]!.GetValue<string>());
        Assert.NotEqual(ClusterEnvironment.SecretValue(_cluster.Api.Get("secrets", "config-injector", "blue-signing-key"), "key"),
            ClusterEnvironment.SecretValue(_cluster.Api.Get("secrets", "config-injector", "green-signing-key"), "key"));
        Assert.Null(_cluster.Api.Get("leases", "config-injector", ReleaseNames.Default.Lease));
        Assert.Null(_cluster.Api.Get("secrets", "config-injector", ReleaseNames.Default.SigningKey));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Blue")]
    [InlineData("-blue")]
    [InlineData("blue/../x")]
    public void A_release_that_is_not_a_dns_label_is_refused(string release) =>
        Assert.Throws<ConfigException>(() => ReleaseNames.For(release));
}
