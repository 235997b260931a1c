using ConfigInjector.Core.Annotations;
using ConfigInjector.Kubernetes;
using ConfigInjector.Sync;
using ConfigInjector.TestSupport.Fakes;
using k8s;

namespace ConfigInjector.Tests.Sync;

/// <summary>
/// A new leader computes the same KV v1 versions as the last one (both read the install's version key from the
/// signing-key Secret), so a leader change rewrites, announces and restarts nothing that did not change.
/// </summary>
public sealed class LeaderChangeVersionTests : IAsyncLifetime
{
    private SyncHarness _sync = null!;

    public async Task InitializeAsync()
    {
        _sync = await SyncHarness.StartAsync();
        _sync.Vault.Put("kv/shop/db", new Dictionary<string, string> { ["password"] = "shop-password-v1" });
        _sync.Policies.Allow("shop", "shop", null, "kv/shop/**");
    }

    public async Task DisposeAsync() => await _sync.DisposeAsync();

    /// <summary>The version key as a replica of the install reads it: its own client, its own reader of the signing-key Secret.</summary>
    private KubernetesSigningKey Replica() =>
        new KubernetesSigningKey(new k8s.Kubernetes(new KubernetesClientConfiguration { Host = _sync.Api.Address.ToString() }), "config-injector", ConfigInjector.Hosting.ReleaseNames.Default.SigningKey, KubernetesTimings.Default, _sync.Time);

    [Fact]
    public async Task A_second_worker_taking_over_rewrites_no_kv_v1_secret_when_nothing_changed()
    {
        var secret = _sync.AddManaged("shop", "configinjector-web", "default", "DB_PASSWORD", "vault-prod:kv/shop/db#password", "shop-password-v1", onChange: RotationMode.Restart);
        // The first leader records the content version (the Secret was written with a placeholder one).
        await _sync.Pass(Replica()).RunAsync([secret], CancellationToken.None);
        var recorded = _sync.Read("shop", "configinjector-web");
        var writes = _sync.Api.Count("PUT secrets");

        // The leader is gone; another replica leads and runs its first pass over the same Secret.
        var results = await _sync.Pass(Replica()).RunAsync([recorded], CancellationToken.None);

        Assert.Equal(ReconcileStatus.Unchanged, Assert.Single(results).Status);
        Assert.Equal(writes, _sync.Api.Count("PUT secrets"));
        Assert.Equal(recorded.Metadata.ResourceVersion, _sync.Read("shop", "configinjector-web").Metadata.ResourceVersion);
        Assert.Single(_sync.Api.Events("Rotated"));
        Assert.Equal(0, _sync.Restarter.Pending);
    }
}
