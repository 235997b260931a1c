using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using ConfigInjector.TestSupport.Fakes;

namespace ConfigInjector.Tests.Kubernetes;

/// <summary>
/// The fake API server keeps a custom resource's status apart as the real one does when the CRD enables the status
/// subresource (https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#status-subresource):
/// the policy-status tests lean on it, so a writer that touched the spec, or wrote without a resourceVersion, fails.
/// </summary>
public sealed class StatusSubresourceTests : IAsyncLifetime
{
    private const string Path = "apis/configinjector.io/v1alpha1/secretpolicies/shop";

    private KubeApiFake _api = null!;

    public async Task InitializeAsync()
    {
        _api = await KubeApiFake.StartAsync();
        _api.Put("secretpolicies", (JsonObject)JsonNode.Parse("""
            {"apiVersion":"configinjector.io/v1alpha1","kind":"SecretPolicy","metadata":{"name":"shop"},
             "spec":{"subjects":{"namespaces":["shop"]},"rules":[{"backend":"vault-prod","paths":["secret/shop/**"]}]}}
            """)!);
    }

    public async Task DisposeAsync() => await _api.DisposeAsync();

    private JsonObject Stored => _api.Get("secretpolicies", null, "shop")!;

    private async Task<HttpStatusCode> PutAsync(string path, JsonObject body)
    {
        using var http = new HttpClient { BaseAddress = _api.Address };
        using var response = await http.PutAsync(path, new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        return response.StatusCode;
    }

    [Fact]
    public async Task A_write_to_status_changes_the_status_alone_and_keeps_the_generation()
    {
        var sent = Stored;
        sent["status"] = new JsonObject { ["observedGeneration"] = 1 };
        sent["spec"]!["onBackendError"] = "skip";
        sent["metadata"]!["labels"] = new JsonObject { ["team"] = "security" };

        Assert.Equal(HttpStatusCode.OK, await PutAsync(Path + "/status", sent));

        Assert.Equal(1, Stored["status"]!["observedGeneration"]!.GetValue<long>());
        Assert.Null(Stored["spec"]!["onBackendError"]);
        Assert.Null(Stored["metadata"]!["labels"]);
        Assert.Equal(1, Stored["metadata"]!["generation"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_write_to_the_resource_ignores_its_status_and_moves_the_generation_with_the_spec_only()
    {
        var withStatus = Stored;
        withStatus["status"] = new JsonObject { ["observedGeneration"] = 1 };
        Assert.Equal(HttpStatusCode.OK, await PutAsync(Path + "/status", withStatus));

        var sent = Stored;
        sent["status"] = new JsonObject { ["observedGeneration"] = 99 };
        sent["metadata"]!["labels"] = new JsonObject { ["team"] = "security" };
        Assert.Equal(HttpStatusCode.OK, await PutAsync(Path, sent));
        Assert.Equal(1, Stored["status"]!["observedGeneration"]!.GetValue<long>());
        Assert.Equal(1, Stored["metadata"]!["generation"]!.GetValue<long>());

        var changed = Stored;
        changed["spec"]!["onBackendError"] = "skip";
        changed.Remove("status");
        Assert.Equal(HttpStatusCode.OK, await PutAsync(Path, changed));
        Assert.Equal(2, Stored["metadata"]!["generation"]!.GetValue<long>());
        Assert.Equal(1, Stored["status"]!["observedGeneration"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_stale_or_missing_resource_version_is_refused()
    {
        var stale = Stored;
        _api.Update("secretpolicies", null, "shop", p => p["spec"]!["onBackendError"] = "skip");
        stale["status"] = new JsonObject { ["observedGeneration"] = 1 };
        var unversioned = (JsonObject)stale.DeepClone();
        unversioned["metadata"]!.AsObject().Remove("resourceVersion");

        Assert.Equal(HttpStatusCode.Conflict, await PutAsync(Path + "/status", stale));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, await PutAsync(Path + "/status", unversioned));
        Assert.Null(Stored["status"]);
    }

    [Fact]
    public async Task Another_subresource_or_one_a_kind_lacks_is_not_found()
    {
        using var http = new HttpClient { BaseAddress = _api.Address };
        using var scale = await http.GetAsync(Path + "/scale");
        using var secretStatus = await http.GetAsync("api/v1/namespaces/shop/secrets/db/status");

        Assert.Equal(HttpStatusCode.NotFound, scale.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, secretStatus.StatusCode);
    }
}
