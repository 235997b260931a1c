using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Builders;
using ConfigInjector.TestSupport.Fakes;

namespace ConfigInjector.Tests.Kubernetes;

/// <summary>The webhook's writes against the fake kube-apiserver: what is created, reused, refused and reported.</summary>
public sealed class AdmissionInClusterTests : IAsyncLifetime
{
    private ClusterEnvironment _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ClusterEnvironment.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static PodBuilder Pod((string, string) rs) => ClusterEnvironment.PodOf(rs).WithAnnotation("configinjector.io/secret.DB_PASSWORD", "vault-prod:secret/shop/db#password");

    [Fact]
    public async Task Pods_of_one_replicaset_share_one_secret_without_rewriting_it()
    {
        var server = await _cluster.StartReplicaAsync();
        var rs = _cluster.Api.AddDeployment("shop", "web");

        for (var i = 0; i < 3; i++)
            Assert.True((await server.ReviewPodAsync(Pod(rs), "shop")).Allowed);

        // The first pod writes it; this replica remembers that, so the next pods cost no API calls.
        Assert.Single(_cluster.Api.All("secrets", "shop"));
        Assert.Equal(1, _cluster.Api.Count("POST secrets shop/"));

        // Another replica meets 409 AlreadyExists, checks the signature and reuses the Secret as it is.
        var other = await _cluster.StartReplicaAsync("replica-b");
        Assert.True((await other.ReviewPodAsync(Pod(rs), "shop")).Allowed);
        Assert.Single(_cluster.Api.All("secrets", "shop"));
        Assert.Equal(2, _cluster.Api.Count("POST secrets shop/"));
        Assert.Equal(0, _cluster.Api.Count("PUT secrets"));
    }

    [Fact]
    public async Task A_managed_secret_deleted_after_its_first_pod_is_written_again_by_the_next_pod_of_its_owner()
    {
        var server = await _cluster.StartReplicaAsync();
        var rs = _cluster.Api.AddDeployment("shop", "web");
        Assert.True((await server.ReviewPodAsync(Pod(rs), "shop")).Allowed);
        var name = Assert.Single(_cluster.Api.All("secrets", "shop"))["metadata"]!["name"]!.GetValue<string>();

        // The troubleshooting reflex: delete the Secret, then the pod. The ReplicaSet's new pod comes within seconds,
        // well inside the minute this replica would otherwise take the Secret as written.
        _cluster.Api.Delete("secrets", "shop", name);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (_cluster.Api.Get("secrets", "shop", name) is null && DateTime.UtcNow < deadline)
        {
            Assert.True((await server.ReviewPodAsync(Pod(rs), "shop")).Allowed);
            await Task.Delay(100);
        }

        Assert.NotNull(_cluster.Api.Get("secrets", "shop", name));
    }

    [Fact]
    public async Task Dry_run_and_denied_pods_create_nothing()
    {
        var server = await _cluster.StartReplicaAsync();
        var rs = _cluster.Api.AddDeployment("shop", "web");

        var dry = await server.ReviewPodAsync(Pod(rs), "shop", dryRun: true);
        var denied = await server.ReviewPodAsync(ClusterEnvironment.PodOf(rs).WithAnnotation("configinjector.io/secret.X", "vault-prod:secret/other/db#password"), "shop");

        Assert.True(dry.Allowed);
        denied.AssertDenied();
        Assert.Equal(0, _cluster.Api.Count("POST secrets shop/"));
        Assert.Empty(_cluster.Api.All("secrets", "shop"));
    }

    [Fact]
    public async Task A_kubernetes_api_error_at_admission_follows_on_backend_error()
    {
        var server = await _cluster.StartReplicaAsync();
        Assert.True((await server.ReviewPodAsync(Pod(_cluster.Api.AddDeployment("shop", "warm")), "shop")).Allowed);
        var rs = _cluster.Api.AddDeployment("shop", "web");
        _cluster.Api.FailNext("POST", "secrets", 403, reason: "Forbidden");

        var review = await server.ReviewPodAsync(Pod(rs), "shop");

        Assert.Equal(0, _cluster.Api.PendingFaults);
        review.AssertDenied();
        Assert.Equal("configinjector: managed Secret configinjector-web-5d8f7c-" + review.Message!.Split("configinjector-web-5d8f7c-")[1].Split(':')[0]
            + ": Kubernetes API 403: the service account may not create secrets in namespace shop (add it to the ClusterRole, see README \"RBAC\")", review.Message);
    }

    [Theory]
    [InlineData("allow-stale")]
    [InlineData("skip")]
    public async Task A_kubernetes_api_error_under_allow_stale_or_skip_admits_without_secret_values_and_says_so(string mode)
    {
        var server = await _cluster.StartReplicaAsync(onBackendError: mode);
        // A first admission creates the signing key, so the refused write below is the managed Secret's.
        Assert.True((await server.ReviewPodAsync(Pod(_cluster.Api.AddDeployment("shop", "warm")), "shop")).Allowed);
        var rs = _cluster.Api.AddDeployment("shop", "web");
        _cluster.Api.FailNext("POST", "secrets", 403, reason: "Forbidden");
        var posts = _cluster.Api.Count("POST secrets");

        var review = await server.ReviewPodAsync(Pod(rs), "shop");

        Assert.True(review.Allowed, review.Message);
        Assert.Equal(0, _cluster.Api.PendingFaults);
        Assert.DoesNotContain("secretKeyRef", review.PatchText, StringComparison.Ordinal);
        Assert.Contains(review.Warnings, w => w.Contains("Kubernetes API 403", StringComparison.Ordinal) && w.Contains($"secret values not injected (onBackendError: {mode})", StringComparison.Ordinal));
        await Eventually.TrueAsync(() => _cluster.Api.Events("SecretSkipped").Count > 0, "a SecretSkipped event");
        Assert.Equal("ReplicaSet", _cluster.Api.Events("SecretSkipped")[0]["involvedObject"]!["kind"]!.GetValue<string>());
        Assert.Equal(posts + 1, _cluster.Api.Count("POST secrets"));
    }

    [Fact]
    public async Task A_skipped_ref_is_recorded_in_an_event_on_the_pods_controller()
    {
        var server = await _cluster.StartReplicaAsync(onBackendError: "skip");
        var rs = _cluster.Api.AddDeployment("shop", "web");
        _cluster.Vault.Sealed = true;

        var review = await server.ReviewPodAsync(Pod(rs), "shop");

        Assert.True(review.Allowed);
        await Eventually.TrueAsync(() => _cluster.Api.Events("SecretSkipped").Count > 0, "a SecretSkipped event");
        var skipped = Assert.Single(_cluster.Api.Events("SecretSkipped"));
        Assert.Equal(("ReplicaSet", rs.Name), (skipped["involvedObject"]!["kind"]!.GetValue<string>(), skipped["involvedObject"]!["name"]!.GetValue<string>()));
        Assert.Contains("vault-prod:secret/shop/db#password", skipped["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_secret_of_the_same_name_that_we_do_not_manage_is_left_alone()
    {
        var server = await _cluster.StartReplicaAsync();
        var rs = _cluster.Api.AddDeployment("shop", "web");
        var first = await server.ReviewPodAsync(Pod(rs), "shop", dryRun: true);
        var name = (string)PatchOracle.Apply(Pod(rs).ToJson(), first.Patch!)["metadata"]!["annotations"]!["configinjector.io/managed-secret"]!;
        _cluster.Api.Put("secrets", new System.Text.Json.Nodes.JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Secret",
            ["metadata"] = new System.Text.Json.Nodes.JsonObject { ["name"] = name, ["namespace"] = "shop" },
            ["data"] = new System.Text.Json.Nodes.JsonObject { ["x"] = "eA==" },
        });

        var review = await server.ReviewPodAsync(Pod(rs), "shop");

        Assert.Equal(0, _cluster.Api.PendingFaults);
        review.AssertDenied();
        Assert.Contains("exists and is not managed by config-injector; refusing to change it", review.Message, StringComparison.Ordinal);
        Assert.Equal("eA==", _cluster.Api.Get("secrets", "shop", name)!["data"]!["x"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_opted_in_pod_without_the_marker_gets_an_event()
    {
        await _cluster.StartReplicaAsync();
        _cluster.Api.Put("pods", new System.Text.Json.Nodes.JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = new System.Text.Json.Nodes.JsonObject
            {
                ["name"] = "escaped",
                ["namespace"] = "shop",
                ["annotations"] = new System.Text.Json.Nodes.JsonObject { ["configinjector.io/inject"] = "true" },
            },
            ["spec"] = new System.Text.Json.Nodes.JsonObject { ["containers"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["name"] = "app", ["image"] = "app" }) },
        });

        await Eventually.TrueAsync(() => _cluster.Api.Events("NotInjected").Count > 0, "a NotInjected event");

        var notInjected = Assert.Single(_cluster.Api.Events("NotInjected"));
        Assert.Equal("escaped", notInjected["involvedObject"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_bare_pods_secret_is_adopted_by_the_pod_and_an_unused_one_collected()
    {
        var server = await _cluster.StartReplicaAsync();
        _cluster.Api.Put("secrets", new System.Text.Json.Nodes.JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Secret",
            ["metadata"] = new System.Text.Json.Nodes.JsonObject
            {
                ["name"] = "configinjector-from-inject",
                ["namespace"] = "shop",
                ["labels"] = new System.Text.Json.Nodes.JsonObject { ["app.kubernetes.io/managed-by"] = "config-injector" },
                ["annotations"] = new System.Text.Json.Nodes.JsonObject { ["configinjector.io/lifecycle"] = "manual" },
                ["creationTimestamp"] = "2020-01-01T00:00:00Z",
            },
        });
        var bare = PodBuilder.Injected("bare-1").InNamespace("shop").WithAnnotation("configinjector.io/secret.DB_PASSWORD", "vault-prod:secret/shop/db#password");
        var orphan = PodBuilder.Injected("never-created").InNamespace("shop").WithAnnotation("configinjector.io/secret.USER", "vault-prod:secret/shop/db#user");
        var review = await server.ReviewPodAsync(bare, "shop");
        var orphanReview = await server.ReviewPodAsync(orphan, "shop");
        var orphanSecret = (string)PatchOracle.Apply(orphan.ToJson(), orphanReview.Patch!)["metadata"]!["annotations"]!["configinjector.io/managed-secret"]!;
        var patched = PatchOracle.Apply(bare.ToJson(), review.Patch!);
        var name = (string)patched["metadata"]!["annotations"]!["configinjector.io/managed-secret"]!;
        // The API server stores the pod: now it has a UID the Secret can point at.
        var stored = _cluster.Api.Put("pods", System.Text.Json.Nodes.JsonNode.Parse(patched.ToString())!.AsObject());

        await Eventually.TrueAsync(() => _cluster.Api.Get("secrets", "shop", name)?["metadata"]?["ownerReferences"] is not null, "adoption by the pod");
        await Eventually.TrueAsync(() => _cluster.Api.Get("secrets", "shop", orphanSecret) is null, "the unused Secret to be collected", TimeSpan.FromSeconds(30));
        Assert.Contains(_cluster.Api.Requests, r => r == $"DELETE secrets shop/{orphanSecret}");
        Assert.Equal(2, _cluster.Api.All("secrets", "shop").Count);
        Assert.NotNull(_cluster.Api.Get("secrets", "shop", "configinjector-from-inject"));
        Assert.Equal(stored["metadata"]!["uid"]!.GetValue<string>(), _cluster.Api.Get("secrets", "shop", name)!["metadata"]!["ownerReferences"]![0]!["uid"]!.GetValue<string>());
    }
}
