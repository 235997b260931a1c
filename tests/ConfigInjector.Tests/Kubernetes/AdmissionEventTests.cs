using System.Text.Json.Nodes;
using ConfigInjector.Kubernetes;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Builders;
using ConfigInjector.TestSupport.Fakes;

namespace ConfigInjector.Tests.Kubernetes;

/// <summary>
/// A controller's pod gets its admission warnings and denials from the API server only through that controller, so
/// the webhook records them as Events on it (InjectionWarning, InjectionDenied), once per distinct message with a
/// count — never for a dry run or a bare pod, never with a value.
/// </summary>
public sealed class AdmissionEventTests : IAsyncLifetime
{
    private static readonly KubernetesTimings Fast = KubernetesTimings.Default with { EventCountEvery = TimeSpan.FromMilliseconds(200) };
    private ClusterEnvironment _cluster = null!;
    private WebhookServer _server = null!;

    public async Task InitializeAsync()
    {
        _cluster = await ClusterEnvironment.StartAsync();
        _server = await _cluster.StartReplicaAsync(settings: s => s with { KubernetesTimings = Fast });
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static PodBuilder Denied((string, string) rs) => ClusterEnvironment.PodOf(rs).WithAnnotation("configinjector.io/secret.X", "vault-prod:secret/other/db#password");

    [Theory]
    [InlineData(true, "configinjector.io/secrt.DB_PASSWORD", "unknown annotation configinjector.io/secrt.DB_PASSWORD")]
    [InlineData(false, "configinjector.io/secret.DB_PASSWORD", "add configinjector.io/inject: \"true\"")]
    public async Task A_replicaset_pods_warning_is_an_event_on_the_replicaset_naming_the_annotation(bool optedIn, string annotation, string expected)
    {
        var rs = _cluster.Api.AddDeployment("shop", "web");
        var pod = optedIn ? ClusterEnvironment.PodOf(rs) : PodWithoutOptIn(rs);

        var review = await _server.ReviewPodAsync(pod.WithAnnotation(annotation, "vault-prod:secret/shop/db#password"), "shop");

        Assert.True(review.Allowed, review.Message);
        Assert.Contains(review.Warnings, w => w.Contains(expected, StringComparison.Ordinal));
        var warning = Assert.Single(await EventsAsync("InjectionWarning", 1));
        Assert.Equal(("ReplicaSet", rs.Name, rs.Uid, "Warning"), (Text(warning, "involvedObject", "kind"), Text(warning, "involvedObject", "name"), Text(warning, "involvedObject", "uid"), Text(warning, "type")));
        Assert.Contains(expected, Text(warning, "message"), StringComparison.Ordinal);
        Assert.Equal("config-injector", Text(warning, "source", "component"));
    }

    [Fact]
    public async Task A_denied_replicaset_pod_is_an_event_on_the_replicaset_with_the_denial_reason()
    {
        var rs = _cluster.Api.AddDeployment("shop", "web");

        var review = await _server.ReviewPodAsync(Denied(rs), "shop");

        review.AssertDenied("vault-prod:secret/other/db#password");
        var denied = Assert.Single(await EventsAsync("InjectionDenied", 1));
        Assert.Equal(("ReplicaSet", rs.Name), (Text(denied, "involvedObject", "kind"), Text(denied, "involvedObject", "name")));
        Assert.Equal($"a pod of this ReplicaSet was denied: {review.Message!["configinjector: ".Length..]}", Text(denied, "message"));
    }

    [Fact]
    public async Task Fifty_identical_denials_are_one_event_that_counts_fifty()
    {
        var rs = _cluster.Api.AddDeployment("shop", "web");

        var reviewing = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 50; i++)
            (await _server.ReviewPodAsync(Denied(rs), "shop")).AssertDenied();
        reviewing.Stop();

        await Eventually.TrueAsync(() => _cluster.Api.Events("InjectionDenied") is [{ } e] && e["count"]!.GetValue<int>() == 50, "one InjectionDenied Event counting 50");
        Assert.Equal(1, _cluster.Api.Count("POST events"));
        // Repeats are counted by a patch per round, not one per admission: at most one per round the reviews spanned
        // (and the round after), however slowly this machine answered them.
        var rounds = 2 + (int)(reviewing.Elapsed / Fast.EventCountEvery);
        Assert.InRange(_cluster.Api.Count("PATCH events"), 1, Math.Min(rounds, 25));
    }

    [Fact]
    public async Task A_dry_run_records_nothing()
    {
        var rs = _cluster.Api.AddDeployment("shop", "web");

        (await _server.ReviewPodAsync(Denied(rs).WithAnnotation("configinjector.io/secrt.Y", "x"), "shop", dryRun: true)).AssertDenied();

        await AssertNoEventsBeyondMarkerAsync();
    }

    [Fact]
    public async Task A_bare_pod_records_nothing_since_its_creator_saw_the_answer()
    {
        var denied = PodBuilder.Injected("bare").InNamespace("shop").WithAnnotation("configinjector.io/secret.X", "vault-prod:secret/other/db#password");
        var warned = PodBuilder.Injected("bare-2").InNamespace("shop").WithAnnotation("configinjector.io/secrt.Y", "x");

        (await _server.ReviewPodAsync(denied, "shop")).AssertDenied();
        Assert.NotEmpty((await _server.ReviewPodAsync(warned, "shop")).Warnings);

        await AssertNoEventsBeyondMarkerAsync();
    }

    [Fact]
    public async Task No_event_holds_a_value_though_the_webhook_read_them()
    {
        var rs = _cluster.Api.AddDeployment("shop", "web");
        // Read, then refused: the path's keys are listed, never their values.
        var missingKey = ClusterEnvironment.PodOf(rs).WithAnnotation("configinjector.io/secret.X", "vault-prod:secret/shop/db#nokey");
        // Read, then admitted with warnings: a template, a variable the container already sets, a misspelling.
        var warned = ClusterEnvironment.PodOf(_cluster.Api.AddDeployment("shop", "api"))
            .WithAnnotation("configinjector.io/template.URL", "postgres://${vault-prod:secret/shop/db#user}:${vault-prod:secret/shop/db#password}@db")
            .WithAnnotation("configinjector.io/secret.DB_PASSWORD", "vault-prod:secret/shop/db#password")
            .WithAnnotation("configinjector.io/secrt.Y", "x")
            .WithContainer("web", ("DB_PASSWORD", "own"));

        (await _server.ReviewPodAsync(missingKey, "shop")).AssertDenied("no key \"nokey\"");
        Assert.NotEmpty((await _server.ReviewPodAsync(warned, "shop")).Warnings);

        await EventsAsync("InjectionDenied", 1);
        var events = await EventsAsync("InjectionWarning", 1);
        Assert.Contains("already sets", Text(events[0], "message"), StringComparison.Ordinal);
        Assert.DoesNotContain(_cluster.Api.All("events"), e => e.ToJsonString().Contains("cluster-only-", StringComparison.Ordinal));
    }

    /// <summary>A pod of another ReplicaSet marks the point where the writer has handled what came before; nothing else may have been written.</summary>
    private async Task AssertNoEventsBeyondMarkerAsync()
    {
        var marker = _cluster.Api.AddDeployment("shop", "marker");
        (await _server.ReviewPodAsync(Denied(marker), "shop")).AssertDenied();
        await EventsAsync("InjectionDenied", 1);
        // Two writers: an earlier Event could land just after the marker's.
        await Task.Delay(300);
        var written = Assert.Single(_cluster.Api.All("events"));
        Assert.Equal(marker.Name, Text(written, "involvedObject", "name"));
    }

    private static PodBuilder PodWithoutOptIn((string Name, string Uid) rs)
    {
        var pod = PodBuilder.Create("").InNamespace("shop").WithContainer("app").WithOwner(new k8s.Models.V1OwnerReference
        {
            ApiVersion = "apps/v1",
            Kind = "ReplicaSet",
            Name = rs.Name,
            Uid = rs.Uid,
            Controller = true,
        });
        foreach (var (key, value) in KubeApiFakeExtensions.PodLabels(rs))
            pod.WithLabel(key, value);
        return pod;
    }

    private async Task<IReadOnlyList<JsonObject>> EventsAsync(string reason, int count)
    {
        await Eventually.TrueAsync(() => _cluster.Api.Events(reason).Count >= count, $"{count} {reason} Event(s)");
        return _cluster.Api.Events(reason);
    }

    private static string Text(JsonObject item, params string[] path) =>
        path.Aggregate<string, JsonNode?>(item, (node, key) => node?[key])?.GetValue<string>() ?? "";
}
