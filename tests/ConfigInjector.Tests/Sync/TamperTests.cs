using System.Text;
using System.Text.Json.Nodes;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Fakes;

namespace ConfigInjector.Tests.Sync;

/// <summary>
/// Someone who may edit Secrets in a namespace must not be able to make the sync worker read refs for them:
/// only Secrets signed by the injector are rotated, and policies are re-checked on every pass.
/// </summary>
public sealed class TamperTests : IAsyncLifetime
{
    private ClusterEnvironment _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ClusterEnvironment.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_forged_managed_secret_is_never_read_or_filled()
    {
        _cluster.Vault.Put("secret/shop/admin", new Dictionary<string, string> { ["token"] = "cluster-only-admin-token" });
        _cluster.Api.Put("secrets", new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Secret",
            ["metadata"] = new JsonObject
            {
                ["name"] = "configinjector-forged",
                ["namespace"] = "shop",
                ["labels"] = new JsonObject { ["app.kubernetes.io/managed-by"] = "config-injector" },
                ["annotations"] = new JsonObject
                {
                    ["configinjector.io/sources"] = """{"T":{"ref":"vault-prod:secret/shop/admin#token","version":"0"}}""",
                    ["configinjector.io/service-account"] = "default",
                    ["configinjector.io/signature"] = Convert.ToBase64String(new byte[32]),
                },
            },
            ["data"] = new JsonObject { ["T"] = "eA==" },
        });
        // Started after the forgery exists, so its first pass (every listed Secret is due at once) meets it.
        await _cluster.StartReplicaAsync();

        await Eventually.TrueAsync(() => _cluster.Api.Events("Unverified").Count > 0, "an Unverified event");

        Assert.Equal("x", ClusterEnvironment.SecretValue(_cluster.Api.Get("secrets", "shop", "configinjector-forged"), "T"));
        Assert.Equal(0, _cluster.Vault.Count("GET secret/data/shop/admin"));
    }

    [Fact]
    public async Task A_managed_secret_whose_refs_were_edited_is_not_rotated()
    {
        var server = await _cluster.StartReplicaAsync();
        var rs = _cluster.Api.AddDeployment("shop", "web");
        var pod = ClusterEnvironment.PodOf(rs).WithAnnotation("configinjector.io/secret.DB_PASSWORD", "vault-prod:secret/shop/db#password");
        var review = await server.ReviewPodAsync(pod, "shop");
        var name = (string)PatchOracle.Apply(pod.ToJson(), review.Patch!)["metadata"]!["annotations"]!["configinjector.io/managed-secret"]!;
        _cluster.Vault.Put("secret/shop/admin", new Dictionary<string, string> { ["token"] = "cluster-only-admin-token" });

        _cluster.Api.Update("secrets", "shop", name, s => s["metadata"]!["annotations"]!["configinjector.io/sources"] =
            """{"DB_PASSWORD":{"ref":"vault-prod:secret/shop/admin#token","version":"0"}}""");

        await Eventually.TrueAsync(() => _cluster.Api.Events("Unverified").Count > 0, "an Unverified event");
        Assert.Equal("cluster-only-password-v1", ClusterEnvironment.SecretValue(_cluster.Api.Get("secrets", "shop", name), "DB_PASSWORD"));
        Assert.Equal(0, _cluster.Vault.Count("GET secret/data/shop/admin"));
    }

    [Theory]
    [InlineData("file.db.env", "from", "vault-prod:secret/shop/admin")]
    [InlineData("file.db.env", "format", "json")]
    [InlineData("DB_URL", "template", "${vault-prod:secret/shop/admin#token}")]
    public async Task A_managed_secret_whose_composed_key_was_edited_is_not_rendered_again(string key, string field, string edited)
    {
        var server = await _cluster.StartReplicaAsync();
        var pod = ClusterEnvironment.PodOf(_cluster.Api.AddDeployment("shop", "web"))
            .WithAnnotation("configinjector.io/template.DB_URL", "pg://${vault-prod:secret/shop/db#user}:${vault-prod:secret/shop/db#password}@db")
            .WithAnnotation("configinjector.io/file-from.db.env", "vault-prod:secret/shop/db")
            .WithAnnotation("configinjector.io/file-format.db.env", "dotenv");
        var name = await _cluster.AdmitAsync(server, pod, "web-1");
        var admitted = _cluster.Api.Get("secrets", "shop", name)!["data"]!.ToJsonString();
        _cluster.Vault.Put("secret/shop/admin", new Dictionary<string, string> { ["token"] = "cluster-only-admin-token" });

        _cluster.Api.Update("secrets", "shop", name, s =>
        {
            var composed = JsonNode.Parse(s["metadata"]!["annotations"]!["configinjector.io/composed"]!.GetValue<string>())!;
            composed[key]![field] = edited;
            s["metadata"]!["annotations"]!["configinjector.io/composed"] = composed.ToJsonString();
        });
        // A new value the worker would render into the edited key, were the edit believed.
        _cluster.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "cluster-only-password-v2", ["user"] = "shop" });

        await Eventually.TrueAsync(() => _cluster.Api.Events("Unverified").Count + _cluster.Api.Events("Rotated").Count > 0, "the worker's verdict: Unverified, or Rotated were the edit believed");
        Assert.Empty(_cluster.Api.Events("Rotated"));
        Assert.Equal(admitted, _cluster.Api.Get("secrets", "shop", name)!["data"]!.ToJsonString());
        Assert.Equal(0, _cluster.Vault.Count("GET secret/data/shop/admin"));
    }

    [Fact]
    public async Task A_secret_planted_under_a_predictable_name_is_not_used_by_admission()
    {
        var server = await _cluster.StartReplicaAsync();
        var rs = _cluster.Api.AddDeployment("shop", "web");
        var pod = ClusterEnvironment.PodOf(rs).WithAnnotation("configinjector.io/secret.DB_PASSWORD", "vault-prod:secret/shop/db#password");
        var dry = await server.ReviewPodAsync(pod, "shop", dryRun: true);
        var name = (string)PatchOracle.Apply(pod.ToJson(), dry.Patch!)["metadata"]!["annotations"]!["configinjector.io/managed-secret"]!;
        _cluster.Api.Put("secrets", new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Secret",
            ["metadata"] = new JsonObject
            {
                ["name"] = name,
                ["namespace"] = "shop",
                ["labels"] = new JsonObject { ["app.kubernetes.io/managed-by"] = "config-injector" },
                ["annotations"] = new JsonObject { ["configinjector.io/sources"] = """{"DB_PASSWORD":{"ref":"vault-prod:secret/shop/db#password","version":"1"}}""" },
            },
            ["data"] = new JsonObject { ["DB_PASSWORD"] = Convert.ToBase64String(Encoding.UTF8.GetBytes("attacker-chosen")) },
        });

        var review = await server.ReviewPodAsync(pod, "shop");

        review.AssertDenied();
        Assert.Contains("was not written by config-injector (its signature does not match); refusing to use it", review.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_revoked_policy_stops_refreshing_without_blanking()
    {
        var server = await _cluster.StartReplicaAsync();
        var rs = _cluster.Api.AddDeployment("shop", "web");
        var pod = ClusterEnvironment.PodOf(rs).WithAnnotation("configinjector.io/secret.DB_PASSWORD", "vault-prod:secret/shop/db#password");
        var review = await server.ReviewPodAsync(pod, "shop");
        var name = (string)PatchOracle.Apply(pod.ToJson(), review.Patch!)["metadata"]!["annotations"]!["configinjector.io/managed-secret"]!;

        File.Delete(Path.Combine(server.WorkDir, "examples", "policies", "shop.yaml"));
        await Eventually.TrueAsync(() => !server.ReviewPodAsync(pod, "shop").Result.Allowed, "the policy to be gone");
        _cluster.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "cluster-only-password-v2", ["user"] = "shop" });

        await Eventually.TrueAsync(() => _cluster.Api.Events("NotRefreshed").Any(e => e["message"]!.GetValue<string>().Contains("no SecretPolicy allows", StringComparison.Ordinal)), "a warning that the ref is no longer allowed");
        Assert.Equal("cluster-only-password-v1", ClusterEnvironment.SecretValue(_cluster.Api.Get("secrets", "shop", name), "DB_PASSWORD"));
    }
}
