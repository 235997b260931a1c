using System.Text;
using System.Text.Json.Nodes;
using ConfigInjector.Core.Planning;
using ConfigInjector.Sync;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Builders;
using ConfigInjector.TestSupport.Fakes;
using Microsoft.Extensions.DependencyInjection;

namespace ConfigInjector.Tests.Sync;

/// <summary>
/// One tenant cannot empty the last-known-good value other tenants' pods fall back on: what a tenant edits on their
/// own managed Secret (the versions in its sources) does not steer any replica's cache.
/// </summary>
public sealed class LastKnownGoodTests : IAsyncLifetime
{
    private const string Ref = "vault-prod:secret/shop/db#password";
    private ClusterEnvironment _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ClusterEnvironment.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static PodBuilder Pod((string, string) rs, string ns) => ClusterEnvironment.PodOf(rs).InNamespace(ns).WithAnnotation("configinjector.io/secret.DB_PASSWORD", Ref);

    private static string Injected(ReviewResult review, PodBuilder pod) =>
        PatchOracle.Apply(pod.ToJson(), review.Patch!)["metadata"]!["annotations"]!["configinjector.io/managed-secret"]!.ToString();

    [Fact]
    public async Task A_tenant_editing_the_versions_on_their_own_secret_leaves_other_tenants_their_last_known_good()
    {
        var server = await _cluster.StartReplicaAsync(onBackendError: "allow-stale", policyNamespaces: "[shop, tenant]");
        // Both tenants' pods read the same location; this replica's cache now holds it.
        Assert.True((await server.ReviewPodAsync(Pod(_cluster.Api.AddDeployment("shop", "web"), "shop"), "shop")).Allowed);
        var tenantPod = Pod(_cluster.Api.AddDeployment("tenant", "app"), "tenant");
        var tenantSecret = Injected(await server.ReviewPodAsync(tenantPod, "tenant"), tenantPod);
        var watch = server.Services.GetRequiredService<ManagedSecretWatch>();
        await Eventually.TrueAsync(() => watch.Informer.Get("tenant", tenantSecret) is not null, "the tenant's Secret in the informer");

        // The tenant claims a version of the ref that nobody holds, on the Secret they may edit.
        _cluster.Api.Update("secrets", "tenant", tenantSecret, s =>
            s["metadata"]!["annotations"]![ManagedSecretFactory.SourcesAnnotation] = new JsonObject
            {
                ["DB_PASSWORD"] = new JsonObject { ["ref"] = Ref, ["version"] = "999" },
            }.ToJsonString());
        // A label change after it: once the informer holds it, every handler has seen the edit before it.
        _cluster.Api.Update("secrets", "tenant", tenantSecret, s => s["metadata"]!["labels"]!["seen"] = "yes");
        // (It no longer verifies, so the informer keeps only its identity: wait for that change's resourceVersion.)
        var edited = _cluster.Api.Get("secrets", "tenant", tenantSecret)!["metadata"]!["resourceVersion"]!.GetValue<string>();
        await Eventually.TrueAsync(() => watch.Informer.Get("tenant", tenantSecret)?.Metadata.ResourceVersion == edited, "the edits in the informer");
        _cluster.Vault.Sealed = true;

        // Another pod of the other tenant, new workload: its values come from the cache's last-known-good.
        var victim = Pod(_cluster.Api.AddDeployment("shop", "checkout"), "shop");
        var review = await server.ReviewPodAsync(victim, "shop");

        Assert.True(review.Allowed, review.Message);
        var secret = _cluster.Api.Get("secrets", "shop", Injected(review, victim))!;
        Assert.Equal("cluster-only-password-v1", Encoding.UTF8.GetString(Convert.FromBase64String(secret["data"]!["DB_PASSWORD"]!.GetValue<string>())));
    }
}
