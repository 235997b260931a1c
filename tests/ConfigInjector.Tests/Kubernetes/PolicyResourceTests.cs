using System.Text.Json.Nodes;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Builders;
using ConfigInjector.TestSupport.Fakes;

namespace ConfigInjector.Tests.Kubernetes;

/// <summary>SecretPolicy and ConfigProfile as live custom resources: added, changed and deleted through the API, each change applies to the next admission.</summary>
public sealed class PolicyResourceTests : IAsyncLifetime
{
    private ClusterEnvironment _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ClusterEnvironment.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static JsonObject Policy(string name, string paths, string backend = "vault-prod") => new()
    {
        ["apiVersion"] = "configinjector.io/v1alpha1",
        ["kind"] = "SecretPolicy",
        ["metadata"] = new JsonObject { ["name"] = name },
        ["spec"] = new JsonObject
        {
            ["subjects"] = new JsonObject { ["namespaces"] = new JsonArray("shop") },
            ["rules"] = new JsonArray(new JsonObject { ["backend"] = backend, ["paths"] = new JsonArray(paths) }),
        },
    };

    private static PodBuilder Pod() => PodBuilder.Injected().InNamespace("shop").WithAnnotation("configinjector.io/secret.DB_PASSWORD", "vault-prod:secret/shop/db#password");

    [Fact]
    public async Task A_policy_added_changed_and_deleted_changes_the_next_decision()
    {
        var server = await _cluster.StartReplicaAsync(policiesFromCluster: true);
        await Eventually.TrueAsync(() => server.Client.GetAsync("/readyz").Result.IsSuccessStatusCode, "readiness after the policy informers synced");

        (await server.ReviewPodAsync(Pod(), "shop")).AssertDenied();

        _cluster.Api.Put("secretpolicies", Policy("shop", "secret/shop/**"));
        await Eventually.TrueAsync(() => server.ReviewPodAsync(Pod(), "shop").Result.Allowed, "the new policy to allow the pod");

        _cluster.Api.Update("secretpolicies", null, "shop", p => p["spec"]!["rules"]![0]!["paths"] = new JsonArray("secret/other/**"));
        await Eventually.TrueAsync(() => !server.ReviewPodAsync(Pod(), "shop").Result.Allowed, "the narrowed policy to deny the pod");

        _cluster.Api.Update("secretpolicies", null, "shop", p => p["spec"]!["rules"]![0]!["paths"] = new JsonArray("secret/shop/*"));
        await Eventually.TrueAsync(() => server.ReviewPodAsync(Pod(), "shop").Result.Allowed, "the widened policy to allow it again");

        _cluster.Api.Delete("secretpolicies", null, "shop");
        await Eventually.TrueAsync(() => !server.ReviewPodAsync(Pod(), "shop").Result.Allowed, "deletion to deny it");
    }

    [Fact]
    public async Task An_invalid_policy_object_is_reported_by_name_and_field_and_widens_nothing()
    {
        var server = await _cluster.StartReplicaAsync(policiesFromCluster: true);
        // Valid but for one field: were it taken in, its rule (vault-prod, secret/**) would allow the pod.
        var broken = Policy("broken", "secret/**");
        broken["spec"]!["onBackendError"] = "ignore-errors";
        _cluster.Api.Put("secretpolicies", broken);
        _cluster.Api.Put("secretpolicies", Policy("canary", "secret/nothing/*"));

        await Eventually.TrueAsync(() => server.AllLogText().Contains("SecretPolicy broken", StringComparison.Ordinal), "the invalid object to be reported");

        Assert.Contains("spec.onBackendError: \"ignore-errors\" is not deny, allow-stale or skip", server.AllLogText(), StringComparison.Ordinal);
        (await server.ReviewPodAsync(Pod(), "shop")).AssertDenied();
    }

    [Fact]
    public async Task A_config_profile_resource_applies_to_matching_pods()
    {
        var server = await _cluster.StartReplicaAsync(policiesFromCluster: true);
        _cluster.Api.Put("secretpolicies", Policy("shop", "secret/shop/**"));
        _cluster.Api.Put("configprofiles", new JsonObject
        {
            ["apiVersion"] = "configinjector.io/v1alpha1",
            ["kind"] = "ConfigProfile",
            ["metadata"] = new JsonObject { ["name"] = "tracing" },
            ["spec"] = new JsonObject
            {
                ["selector"] = new JsonObject { ["namespaces"] = new JsonArray("shop") },
                ["env"] = new JsonObject { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://otel:4317" },
            },
        });

        await Eventually.TrueAsync(() => server.ReviewPodAsync(Pod(), "shop").Result.PatchText.Contains("OTEL_EXPORTER_OTLP_ENDPOINT", StringComparison.Ordinal), "the profile's setting in the patch");
    }
}
