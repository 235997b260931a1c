using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Fakes;

namespace ConfigInjector.Tests.Sync;

/// <summary>
/// Templates end to end against the fake kube-apiserver and the Vault fake: admission renders them into the managed
/// Secret, and when one of their refs changes in Vault the worker renders them again and rolls env consumers.
/// </summary>
public sealed class TemplateRotationTests : IAsyncLifetime
{
    private const string Url = "postgres://${vault-prod:secret/shop/db#user}:${vault-prod:secret/shop/db#password | urlencode}@db:5432/shop";
    private ClusterEnvironment _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ClusterEnvironment.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task One_changed_ref_re_renders_the_template_and_restarts_its_env_consumer()
    {
        var server = await _cluster.StartReplicaAsync();
        var rs = _cluster.Api.AddDeployment("shop", "orders");
        var pod = ClusterEnvironment.PodOf(rs)
            .WithAnnotation("configinjector.io/template.DATABASE_URL", Url)
            .WithAnnotation("configinjector.io/file-template.ca.pem", "# shop CA\n${vault-prod:secret/shop/tls#ca}\n");

        var review = await server.ReviewPodAsync(pod, "shop");

        Assert.True(review.Allowed, review.Message);
        var patched = PatchOracle.Apply(pod.ToJson(), review.Patch!);
        var name = _cluster.StoreAdmitted(pod, review, "orders-1");
        Assert.Equal("postgres://shop:cluster-only-password-v1@db:5432/shop", ClusterEnvironment.SecretValue(_cluster.Api.Get("secrets", "shop", name), "DATABASE_URL"));
        Assert.Equal("vault-prod:secret/shop/db#password@1,vault-prod:secret/shop/db#user@1,vault-prod:secret/shop/tls#ca@1",
            (string)patched["metadata"]!["annotations"]!["configinjector.io/injected"]!);

        _cluster.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "cluster-only-password/v2", ["user"] = "shop" });

        await Eventually.TrueAsync(() => ClusterEnvironment.SecretValue(_cluster.Api.Get("secrets", "shop", name), "DATABASE_URL") == "postgres://shop:cluster-only-password%2Fv2@db:5432/shop", "the template to be rendered again");
        await Eventually.TrueAsync(() => _cluster.Api.RestartedAt("shop", "orders") is not null, "the Deployment to be restarted");
        await Eventually.TrueAsync(() => _cluster.Api.Events("Rotated").Count > 0, "the Rotated Event");
        var secret = _cluster.Api.Get("secrets", "shop", name)!;
        Assert.Equal("# shop CA\ncluster-only-ca-v1\n", ClusterEnvironment.SecretValue(secret, "file.ca.pem"));
        var rotated = Assert.Single(_cluster.Api.Events("Rotated"));
        Assert.Contains("DATABASE_URL <- vault-prod:secret/shop/db#password@2 + vault-prod:secret/shop/db#user@2", rotated["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain("cluster-only", rotated.ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain("cluster-only", secret["metadata"]!.ToJsonString(), StringComparison.Ordinal);
    }
}
