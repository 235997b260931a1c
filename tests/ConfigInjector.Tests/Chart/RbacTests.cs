using System.Text.Json.Nodes;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Fakes;
using Microsoft.Extensions.DependencyInjection;

namespace ConfigInjector.Tests.Chart;

/// <summary>
/// The chart's RBAC against the calls the code really makes: a replica runs admissions (with and without a
/// namespace lookup), rotation with a rollout restart, adoption and collection, policies as custom resources (and
/// their status, which the leader writes) and leader election against the fake API server, and every request it sent must be one the rendered ClusterRole
/// (or the Role, in the release namespace) grants. A call the chart forgot fails here, not in a cluster.
/// </summary>
public sealed class RbacTests : IAsyncLifetime
{
    private static readonly Dictionary<string, string> Groups = new()
    {
        ["secrets"] = "",
        ["pods"] = "",
        ["events"] = "",
        ["namespaces"] = "",
        ["replicasets"] = "apps",
        ["deployments"] = "apps",
        ["statefulsets"] = "apps",
        ["daemonsets"] = "apps",
        ["leases"] = "coordination.k8s.io",
        ["jobs"] = "batch",
        ["cronjobs"] = "batch",
        ["tokenreviews"] = "authentication.k8s.io",
        ["serviceaccounts"] = "",
        ["secretpolicies"] = "configinjector.io",
        ["configprofiles"] = "configinjector.io",
    };

    private ClusterEnvironment _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ClusterEnvironment.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Every_call_the_injector_makes_is_granted_by_the_charts_rbac_and_nothing_more_is_granted()
    {
        _cluster.Api.Put("secretpolicies", (JsonObject)JsonNode.Parse("""
            {"apiVersion":"configinjector.io/v1alpha1","kind":"SecretPolicy","metadata":{"name":"shop"},
             "spec":{"subjects":{"namespaces":["shop"]},"rules":[{"backend":"vault-prod","paths":["secret/shop/**"]}],"rotation":{"interval":"1s","onChange":"restart","debounce":"1s"}}}
            """)!);
        _cluster.Api.Put("configprofiles", (JsonObject)JsonNode.Parse("""
            {"apiVersion":"configinjector.io/v1alpha1","kind":"ConfigProfile","metadata":{"name":"tracing"},"spec":{"env":{"OTEL_SERVICE_NAME":"shop"}}}
            """)!);
        // As the chart runs it: `helm template ci` names the install ci-config-injector (its Lease and signing key follow).
        var server = await _cluster.StartReplicaAsync(policiesFromCluster: true, settings: s => s with
        {
            Release = "ci-config-injector",
            KubernetesTimings = ConfigInjector.Kubernetes.KubernetesTimings.Default with { EventCountEvery = TimeSpan.FromMilliseconds(200) },
        });
        await Eventually.TrueAsync(() => server.Client.GetAsync("/readyz").Result.IsSuccessStatusCode, "the policies to be read");
        var rs = _cluster.Api.AddDeployment("shop", "checkout");
        await _cluster.AdmitAsync(server, ClusterEnvironment.PodOf(rs).WithAnnotation("configinjector.io/secret.DB_PASSWORD", "vault-prod:secret/shop/db#password"), "checkout-1");
        // No inject annotation: the namespace label decides.
        await server.ReviewPodAsync(TestSupport.Builders.PodBuilder.Create("labelled").InNamespace("shop").WithContainer("app").WithAnnotation("configinjector.io/secret.X", "vault-prod:secret/shop/db#user"), "shop");
        // A bare pod's Secret, never adopted: collected after the grace period.
        await server.ReviewPodAsync(TestSupport.Builders.PodBuilder.Injected("bare").InNamespace("shop").WithAnnotation("configinjector.io/secret.Y", "vault-prod:secret/shop/db#user"), "shop");
        // A misspelling in a ReplicaSet's pods, twice: an InjectionWarning Event, then its count patched.
        var typo = _cluster.Api.AddDeployment("shop", "typo");
        await server.ReviewPodAsync(ClusterEnvironment.PodOf(typo).WithAnnotation("configinjector.io/secrt.X", "x"), "shop");
        await Eventually.TrueAsync(() => _cluster.Api.Count("POST events") > 0, "the InjectionWarning Event");
        await server.ReviewPodAsync(ClusterEnvironment.PodOf(typo).WithAnnotation("configinjector.io/secrt.X", "x"), "shop");
        await Eventually.TrueAsync(() => _cluster.Api.Count("PATCH events") > 0, "the InjectionWarning Event's count");
        _cluster.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "cluster-only-password-v2", ["user"] = "shop" });
        await Eventually.TrueAsync(() => _cluster.Api.RestartedAt("shop", "checkout") is not null, "the rollout restart");
        await Eventually.TrueAsync(() => _cluster.Api.Count("DELETE secrets") > 0, "the unused Secret to be collected", TimeSpan.FromSeconds(20));
        await Eventually.TrueAsync(() => _cluster.Api.Get("configprofiles", null, "tracing")?["status"] is not null && _cluster.Api.Get("secretpolicies", null, "shop")?["status"] is not null, "the policies' status");
        // A refresh request (POST /refresh, Vault events) annotates the Secrets that use the ref.
        var refreshed = await server.Services.GetRequiredService<ConfigInjector.Sync.IRefreshRequester>()
            .RequestAsync([ConfigInjector.Core.Report.RefPattern.Parse("vault-prod:secret/shop/").Value!], "test", CancellationToken.None);
        Assert.True(refreshed.SecretsMadeDue > 0);

        var rendered = await Helm.TemplateAsync();
        var clusterRules = Rules(rendered.Single("ClusterRole"));
        var namespacedRules = Rules(rendered.Single("Role"));
        var calls = _cluster.Api.Requests.Select(Call).Distinct().ToList();
        var refused = calls.Where(c => !Allowed(clusterRules, c) && !(c.Namespace == Helm.Namespace && Allowed(namespacedRules, c))).ToList();

        Assert.True(refused.Count == 0, "not granted by the chart: " + string.Join(", ", refused));
        // And nothing granted that no call needs: every (group, resource, verb) of the ClusterRole is used.
        var unused = clusterRules.SelectMany(r => r.Resources.SelectMany(res => r.Verbs.Select(v => (r.Group, Resource: res, Verb: v))))
            .Where(g => !calls.Any(c => c.Group == g.Group && c.Resource == g.Resource && c.Verb == g.Verb))
            .Select(g => $"{g.Group}/{g.Resource} {g.Verb}")
            .ToList();
        // StatefulSets and DaemonSets are rolled by the same calls as the Deployment here (WorkloadRestarter).
        Assert.Equal(["apps/statefulsets get", "apps/statefulsets patch", "apps/daemonsets get", "apps/daemonsets patch"], unused);
    }

    [Fact]
    public async Task The_report_is_granted_only_what_it_reads_when_report_access_is_set()
    {
        _cluster.Api.AddTokenFor(ConfigInjector.Report.ReportAccess.TokenAudience, "oncall-token", "alice", "security");
        var server = await _cluster.StartReplicaAsync(settings: s => s with { ReportAccess = "group:security" });
        _cluster.Api.AddDeployment("shop", "checkout");
        var before = _cluster.Api.Requests.Count;
        using var request = new HttpRequestMessage(HttpMethod.Get, "/report?ref=vault-prod:secret/shop/db");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "oncall-token");
        var response = await server.Client.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());

        var off = Rules((await Helm.TemplateAsync()).Single("ClusterRole"));
        var on = Rules((await Helm.TemplateAsync("--set", "report.access=group:security")).Single("ClusterRole"));
        // The sync worker keeps running meanwhile (its Lease is in the namespaced Role; Events are granted anyway).
        var reportCalls = _cluster.Api.Requests.Skip(before).Select(Call).Where(c => c.Resource is not ("events" or "leases")).Distinct().ToList();

        Assert.True(!reportCalls.Any(c => !Allowed(on, c)), "not granted: " + string.Join(", ", reportCalls.Where(c => !Allowed(on, c))));
        Assert.Contains(reportCalls, c => !Allowed(off, c));
        var added = on.SelectMany(r => r.Resources.SelectMany(res => r.Verbs.Select(v => (r.Group, Resource: res, Verb: v))))
            .Where(g => !Allowed(off, new Request(g.Group, g.Resource, g.Verb, "", "")))
            .Where(g => !reportCalls.Any(c => c.Group == g.Group && c.Resource == g.Resource && c.Verb == g.Verb))
            .Select(g => $"{g.Group}/{g.Resource} {g.Verb}")
            .ToList();
        Assert.Empty(added);
    }

    [Fact]
    public async Task Service_account_tokens_are_granted_only_when_a_backend_reads_as_the_pod()
    {
        _cluster.Vault.ConfigureKubernetesAuth("kubernetes", _cluster.Api.Address);
        _cluster.Vault.AddKubernetesRole("kubernetes", "shop-checkout", ["checkout"], ["shop"], "vault", TimeSpan.FromHours(1), ["secret/data/shop/"]);
        _cluster.Api.AddServiceAccount("shop", "checkout");
        var server = await _cluster.StartReplicaAsync(vaultAuth: ClusterEnvironment.PodIdentityAuth);
        var before = _cluster.Api.Requests.Count;
        var review = await server.ReviewPodAsync(TestSupport.Builders.PodBuilder.Injected("checkout").InNamespace("shop").WithServiceAccount("checkout")
            .WithAnnotation("configinjector.io/secret.DB", "vault-prod:secret/shop/db#password"), "shop");
        Assert.True(review.Allowed, review.Message);

        var values = Path.Combine(ScratchDirectory.Create(), "values.yaml");
        await File.WriteAllTextAsync(values, """
            config: |
              backends:
                - name: vault-prod
                  type: vault
                  address: https://vault.vault:8200
                  identity: pod
                  auth: { kubernetes: { audience: vault, roleTemplate: "{namespace}-{serviceAccount}" } }
            """);
        var off = Rules((await Helm.TemplateAsync()).Single("ClusterRole"));
        var on = Rules((await Helm.TemplateAsync("-f", values)).Single("ClusterRole"));
        var calls = _cluster.Api.Requests.Skip(before).Select(Call).Where(c => c.Resource.StartsWith("serviceaccounts", StringComparison.Ordinal)).Distinct().ToList();

        Assert.Equal(["get /serviceaccounts shop/checkout", "create /serviceaccounts/token shop/checkout"], calls.Select(c => c.ToString()));
        Assert.All(calls, c => Assert.True(Allowed(on, c), $"not granted: {c}"));
        Assert.All(calls, c => Assert.False(Allowed(off, c), $"granted without identity: pod: {c}"));
        var added = on.SelectMany(r => r.Resources.SelectMany(res => r.Verbs.Select(v => (r.Group, Resource: res, Verb: v))))
            .Where(g => !Allowed(off, new Request(g.Group, g.Resource, g.Verb, "", "")) && !calls.Any(c => c.Resource == g.Resource && c.Verb == g.Verb))
            .ToList();
        Assert.Empty(added);
    }

    private sealed record Rule(string Group, IReadOnlyList<string> Resources, IReadOnlyList<string> Verbs, IReadOnlyList<string>? Names);

    private sealed record Request(string Group, string Resource, string Verb, string Namespace, string Name)
    {
        public override string ToString() => $"{Verb} {Group}/{Resource} {Namespace}/{Name}";
    }

    private static List<Rule> Rules(JsonObject role) => [.. role["rules"]!.AsArray().SelectMany(r => r!["apiGroups"]!.AsArray().Select(g => new Rule(
        g!.GetValue<string>(),
        [.. r["resources"]!.AsArray().Select(x => x!.GetValue<string>())],
        [.. r["verbs"]!.AsArray().Select(x => x!.GetValue<string>())],
        r["resourceNames"]?.AsArray().Select(x => x!.GetValue<string>()).ToList())))];

    /// <summary>"GET secrets shop/name watch" → the verb RBAC checks (get, list, watch, create, update, patch, delete); "secretpolicies/status" is its own resource to RBAC.</summary>
    private static Request Call(string logged)
    {
        var parts = logged.Split(' ');
        var (ns, name) = (parts[2].Split('/')[0], parts[2].Split('/')[1]);
        var verb = parts[0] switch
        {
            "GET" when parts.Length > 3 => "watch",
            "GET" when name.Length == 0 => "list",
            "GET" => "get",
            "POST" => "create",
            "PUT" => "update",
            "PATCH" => "patch",
            "DELETE" => "delete",
            var other => other,
        };
        return new Request(Groups[parts[1].Split('/')[0]], parts[1], verb, ns, name);
    }

    private static bool Allowed(List<Rule> rules, Request call) => rules.Any(r =>
        r.Group == call.Group && r.Resources.Contains(call.Resource) && r.Verbs.Contains(call.Verb) &&
        (r.Names is null || (call.Verb != "create" && r.Names.Contains(call.Name))));
}
