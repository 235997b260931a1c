using System.Text.Json.Nodes;
using ConfigInjector.Admission;
using ConfigInjector.Kubernetes;
using ConfigInjector.TestSupport;

namespace ConfigInjector.Tests.Chart;

/// <summary>
/// The Helm chart, rendered and linted by the real Helm 3: every object valid for its kind with unknown fields
/// refused, safe by default, and tied to the code (ports, paths, names, certificates).
/// </summary>
public class ChartTests
{
    private static readonly string[] OtherProjectsKinds = ["cert-manager.io/v1 Certificate", "cert-manager.io/v1 Issuer", "monitoring.coreos.com/v1 ServiceMonitor", "monitoring.coreos.com/v1 PrometheusRule", "configinjector.io/v1alpha1 SecretPolicy"];

    public static TheoryData<string, string[]> Modes => new()
    {
        { "defaults", [] },
        { "cert-manager", ["--set", "tls.mode=cert-manager"] },
        { "cert-manager with an issuer", ["--set", "tls.mode=cert-manager", "--set-json", "tls.certManager.issuerRef={\"name\":\"corp-ca\",\"kind\":\"ClusterIssuer\",\"group\":\"cert-manager.io\"}"] },
        { "secret", ["--set", "tls.mode=secret", "--set", "tls.secret.name=my-webhook-tls", "--set", "tls.secret.caBundle=Y2E="] },
        { "secret with a service monitor over https", ["--set", "tls.mode=secret", "--set", "tls.secret.name=my-webhook-tls", "--set", "tls.secret.caBundle=Y2E=", "--set", "metrics.serviceMonitor.enabled=true", "--set", "metrics.scheme=https"] },
        { "everything on", ["--set", "networkPolicy.enabled=true", "--set", "metrics.serviceMonitor.enabled=true", "--set", "metrics.prometheusRule.enabled=true", "--set", "metrics.dashboard.enabled=true", "--set-json", "policies=[{\"kind\":\"SecretPolicy\",\"name\":\"payments\",\"spec\":{\"subjects\":{\"namespaces\":[\"payments\"]},\"rules\":[{\"backend\":\"vault-prod\",\"paths\":[\"secret/payments/**\"]}]}}]"] },
    };

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Lint_strict_passes(string name, string[] values)
    {
        var (code, output, error) = await Helm.RunAsync(["lint", "--strict", Helm.Chart, "--namespace", Helm.Namespace, .. values]);

        Assert.True(code == 0, $"{name}: {output}{error}");
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Every_rendered_object_fits_the_kubernetes_schema_of_its_kind(string name, string[] values)
    {
        var objects = await Helm.TemplateAsync(values);

        Assert.NotEmpty(objects);
        foreach (var item in objects.Where(KubernetesSchema.Knows))
            Assert.True(KubernetesSchema.Problem(item) is null, $"{name}: {item["kind"]} {item["metadata"]?["name"]}: {KubernetesSchema.Problem(item)}");
        // Kinds of other projects' CRDs, checked by hand: cert-manager, Prometheus Operator, our own.
        var others = objects.Where(o => !KubernetesSchema.Knows(o)).Select(o => $"{o["apiVersion"]} {o["kind"]}").Distinct().Order().ToList();
        Assert.All(others, o => Assert.Contains(o, OtherProjectsKinds));
    }

    [Fact]
    public async Task Two_releases_in_one_namespace_name_their_lease_and_signing_key_apart_and_each_role_grants_only_its_own()
    {
        var blue = await Helm.TemplateReleaseAsync("blue");
        var green = await Helm.TemplateReleaseAsync("green");

        static (string Release, string Leases, string Keys) Names(IReadOnlyList<JsonObject> objects)
        {
            var args = objects.Single("Deployment")["spec"]!["template"]!["spec"]!["containers"]![0]!["args"]!.AsArray().Select(a => a!.GetValue<string>()).ToList();
            var rules = objects.Single("Role")["rules"]!.AsArray();
            string[] Named(string resource) => [.. rules.Where(r => r!["resources"]!.AsArray().Any(x => x!.GetValue<string>() == resource))
                .SelectMany(r => r!["resourceNames"]?.AsArray().Select(n => n!.GetValue<string>()) ?? ["(any)"])];
            return (args[args.IndexOf("--release") + 1], string.Join(",", Named("leases").Where(n => n != "(any)")), string.Join(",", Named("secrets")));
        }

        Assert.Equal(("blue-config-injector", "blue-config-injector-sync", "blue-config-injector-signing-key"), Names(blue));
        Assert.Equal(("green-config-injector", "green-config-injector-sync", "green-config-injector-signing-key"), Names(green));
        // The only Lease verb without a name is create (RBAC cannot check a name on create).
        Assert.All(new[] { blue, green }, objects => Assert.Equal(["create"], objects.Single("Role")["rules"]!.AsArray()
            .Where(r => r!["resources"]!.AsArray().Any(x => x!.GetValue<string>() == "leases") && r["resourceNames"] is null)
            .SelectMany(r => r!["verbs"]!.AsArray().Select(v => v!.GetValue<string>()))));
    }

    [Fact]
    public async Task The_release_named_config_injector_keeps_the_names_installs_had_before()
    {
        var args = (await Helm.TemplateReleaseAsync("config-injector")).Single("Deployment")["spec"]!["template"]!["spec"]!["containers"]![0]!["args"]!.AsArray().Select(a => a!.GetValue<string>()).ToList();

        Assert.Equal(ConfigInjector.Hosting.ReleaseNames.DefaultRelease, args[args.IndexOf("--release") + 1]);
        Assert.Equal("config-injector-sync", ConfigInjector.Hosting.ReleaseNames.Default.Lease);
        Assert.Equal("config-injector-signing-key", ConfigInjector.Hosting.ReleaseNames.Default.SigningKey);
    }

    [Fact]
    public async Task In_secret_mode_the_service_monitor_of_https_metrics_trusts_the_given_ca_bundle()
    {
        var objects = await Helm.TemplateAsync("--set", "tls.mode=secret", "--set", "tls.secret.name=my-webhook-tls", "--set", "tls.secret.caBundle=Y2EtcGVt", "--set", "metrics.serviceMonitor.enabled=true", "--set", "metrics.scheme=https");

        var ca = objects.Single("ServiceMonitor")["spec"]!["endpoints"]![0]!["tlsConfig"]!["ca"]!["configMap"]!;
        var configMap = objects.OfKind("ConfigMap").Single(c => c["metadata"]!["name"]!.GetValue<string>() == ca["name"]!.GetValue<string>());
        Assert.Equal("ca-pem", configMap["data"]![ca["key"]!.GetValue<string>()]!.GetValue<string>());
    }

    [Fact]
    public async Task One_replica_gets_no_disruption_budget_that_would_block_node_drains()
    {
        Assert.Empty((await Helm.TemplateAsync("--set", "replicaCount=1")).OfKind("PodDisruptionBudget"));
        Assert.Single((await Helm.TemplateAsync()).OfKind("PodDisruptionBudget"));
    }

    [Fact]
    public async Task The_default_render_is_the_documented_object_list()
    {
        var objects = await Helm.TemplateAsync();

        Assert.Equal(
            ["ClusterRole", "ClusterRoleBinding", "ConfigMap", "Deployment", "MutatingWebhookConfiguration", "PodDisruptionBudget", "Role", "RoleBinding", "Secret", "Service", "ServiceAccount"],
            objects.Select(o => o["kind"]!.GetValue<string>()).Order());
    }

    [Fact]
    public async Task The_webhook_is_registered_safely_and_never_for_the_control_plane_or_itself_whatever_the_user_adds()
    {
        var objects = await Helm.TemplateAsync("--set-json", "webhook.namespaceSelector={\"matchLabels\":{\"team\":\"a\"},\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"In\",\"values\":[\"x\"]}]}");
        var webhook = objects.Single("MutatingWebhookConfiguration")["webhooks"]![0]!;

        Assert.Equal("[\"v1\"]", webhook["admissionReviewVersions"]!.ToJsonString());
        Assert.Equal("NoneOnDryRun", webhook["sideEffects"]!.GetValue<string>());
        Assert.Equal("IfNeeded", webhook["reinvocationPolicy"]!.GetValue<string>());
        Assert.Equal("Fail", webhook["failurePolicy"]!.GetValue<string>());
        Assert.Equal(5, webhook["timeoutSeconds"]!.GetValue<long>());
        Assert.Equal("""[{"operations":["CREATE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["pods"],"scope":"Namespaced"}]""", webhook["rules"]!.ToJsonString());
        Assert.Equal(AdmissionEndpoint.Path, webhook["clientConfig"]!["service"]!["path"]!.GetValue<string>());
        var selector = webhook["namespaceSelector"]!;
        Assert.Equal("""{"team":"a"}""", selector["matchLabels"]!.ToJsonString());
        Assert.Contains(selector["matchExpressions"]!.AsArray(), e => e!.ToJsonString() == """{"key":"kubernetes.io/metadata.name","operator":"NotIn","values":["kube-system","kube-node-lease","config-injector"]}""");
        Assert.Contains(selector["matchExpressions"]!.AsArray(), e => e!["key"]!.GetValue<string>() == "tier");
    }

    [Fact]
    public async Task The_pod_is_hardened_and_probed_over_https()
    {
        var deployment = (await Helm.TemplateAsync()).Single("Deployment");
        var pod = deployment["spec"]!["template"]!["spec"]!;
        var container = pod["containers"]![0]!;
        var security = container["securityContext"]!;

        Assert.Equal(2, deployment["spec"]!["replicas"]!.GetValue<long>());
        Assert.True(pod["securityContext"]!["runAsNonRoot"]!.GetValue<bool>());
        Assert.Equal(65532, pod["securityContext"]!["runAsUser"]!.GetValue<long>());
        Assert.Equal("RuntimeDefault", pod["securityContext"]!["seccompProfile"]!["type"]!.GetValue<string>());
        Assert.True(security["readOnlyRootFilesystem"]!.GetValue<bool>());
        Assert.False(security["allowPrivilegeEscalation"]!.GetValue<bool>());
        Assert.Equal("[\"ALL\"]", security["capabilities"]!["drop"]!.ToJsonString());
        Assert.NotNull(container["resources"]!["requests"]!["cpu"]);
        Assert.NotNull(container["resources"]!["requests"]!["memory"]);
        // Only /tmp is writable: every other mount is read-only.
        Assert.All(container["volumeMounts"]!.AsArray(), m => Assert.True(m!["mountPath"]!.GetValue<string>() == "/tmp" || m["readOnly"]?.GetValue<bool>() == true, m.ToJsonString()));
        Assert.Equal("emptyDir", pod["volumes"]!.AsArray().Single(v => v!["name"]!.GetValue<string>() == "tmp")!.AsObject().Where(p => p.Key != "name").Single().Key);
        Assert.Equal(("/readyz", "HTTPS"), (container["readinessProbe"]!["httpGet"]!["path"]!.GetValue<string>(), container["readinessProbe"]!["httpGet"]!["scheme"]!.GetValue<string>()));
        Assert.Equal(("/healthz", "HTTPS"), (container["livenessProbe"]!["httpGet"]!["path"]!.GetValue<string>(), container["livenessProbe"]!["httpGet"]!["scheme"]!.GetValue<string>()));
        var env = container["env"]!.AsArray().ToDictionary(e => e!["name"]!.GetValue<string>(), e => e!["valueFrom"]?["fieldRef"]?["fieldPath"]?.GetValue<string>());
        Assert.Equal(("metadata.name", "metadata.namespace"), (env["POD_NAME"], env["POD_NAMESPACE"]));
        Assert.NotNull(pod["affinity"]!["podAntiAffinity"]);
    }

    [Fact]
    public async Task The_chart_matches_the_code_it_runs()
    {
        var objects = await Helm.TemplateAsync();
        var chart = YamlJsonOf(Path.Combine(Helm.Chart, "Chart.yaml"));
        var container = objects.Single("Deployment")["spec"]!["template"]!["spec"]!["containers"]![0]!;
        var args = container["args"]!.AsArray().Select(a => a!.GetValue<string>()).ToList();
        var port = container["ports"]![0]!["containerPort"]!.GetValue<long>();

        Assert.EndsWith(":" + chart["appVersion"]!.GetValue<string>(), container["image"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal($"https://[::]:{port}", args[args.IndexOf("--urls") + 1]);
        Assert.Equal("serve", args[0]);
        // The arguments are ones serve accepts: parse them with the CLI itself.
        var parse = ConfigInjector.Cli.CliApp.Parse([.. args]);
        Assert.Empty(parse.Errors);
        var secret = objects.Single("Secret");
        Assert.Equal(secret["data"]!["ca.crt"]!.GetValue<string>(), objects.Single("MutatingWebhookConfiguration")["webhooks"]![0]!["clientConfig"]!["caBundle"]!.GetValue<string>());
        Assert.Equal("kubernetes.io/tls", secret["type"]!.GetValue<string>());
        // The CRDs the chart ships are the resources the policy source watches.
        var crds = Directory.GetFiles(Path.Combine(Helm.Chart, "crds")).Select(YamlJsonOf).Select(c => (c["spec"]!["group"]!.GetValue<string>(), c["spec"]!["names"]!["plural"]!.GetValue<string>())).Order().ToList();
        Assert.Equal([(CustomResourcePolicySource.Group, "configprofiles"), (CustomResourcePolicySource.Group, "secretpolicies")], crds);
    }

    [Theory]
    [InlineData(5, "4000ms")]
    [InlineData(1, "800ms")]
    [InlineData(30, "24000ms")]
    public async Task The_webhook_answers_with_its_backend_error_mode_before_the_api_server_gives_up(int timeoutSeconds, string deadline)
    {
        var objects = await Helm.TemplateAsync(timeoutSeconds == 5 ? [] : ["--set", $"webhook.timeoutSeconds={timeoutSeconds}"]);
        var args = objects.ServeArgs();

        Assert.Equal(timeoutSeconds, objects.Single("MutatingWebhookConfiguration")["webhooks"]![0]!["timeoutSeconds"]!.GetValue<long>());
        Assert.Equal(deadline, args[args.IndexOf("--admission-timeout") + 1]);
        Assert.True(ConfigInjector.Configuration.DurationParser.TryParse(deadline, out var admission));
        var config = new ConfigInjector.Configuration.InjectorConfig([], TimeSpan.FromMinutes(5), 1024, null) { AdmissionTimeout = admission };
        Assert.True(config.BackendReadTimeout < config.AdmissionTimeout && config.AdmissionTimeout < TimeSpan.FromSeconds(timeoutSeconds));
    }

    [Fact]
    public async Task With_a_client_ca_only_the_certificate_named_after_the_service_may_admit_unless_told_otherwise()
    {
        var objects = await Helm.TemplateAsync("--set", "webhook.clientCAFile=/ca/apiserver.crt", "--set", "report.clientCAFile=/ca/people.crt", "--set", "report.access=subject:alice");
        var service = objects.Single("MutatingWebhookConfiguration")["webhooks"]![0]!["clientConfig"]!["service"]!;
        var args = objects.ServeArgs();
        var named = (await Helm.TemplateAsync("--set", "webhook.clientCAFile=/ca/apiserver.crt", "--set-json", "webhook.clientSubjects=[\"kube-apiserver\",\"apiserver.example\"]")).ServeArgs();

        Assert.Equal([$"{service["name"]}.{service["namespace"]}.svc"], Values(args, "--client-subject"));
        Assert.Equal(["/ca/people.crt"], Values(args, "--report-client-ca"));
        Assert.Empty(ConfigInjector.Cli.CliApp.Parse([.. args]).Errors);
        Assert.Equal(["kube-apiserver", "apiserver.example"], Values(named, "--client-subject"));
        Assert.Empty(Values((await Helm.TemplateAsync()).ServeArgs(), "--client-subject"));
        var (code, _, error) = await Helm.RunAsync("template", "ci", Helm.Chart, "--set-json", "webhook.clientSubjects=[\"kube-apiserver\"]");
        Assert.NotEqual(0, code);
        Assert.Contains("webhook.clientSubjects needs webhook.clientCAFile", error, StringComparison.Ordinal);
    }

    private static List<string> Values(List<string> args, string flag) => args.Select((a, i) => (a, i)).Where(p => p.a == flag).Select(p => args[p.i + 1]).ToList();

    [Theory]
    [InlineData("replicaCount=two", "replicaCount: Invalid type")]
    [InlineData("image.tag=latest", "image.tag: Must not validate the schema")]
    [InlineData("webhook.failurePolicy=Sometimes", "webhook.failurePolicy")]
    [InlineData("tls.mode=manual", "tls.mode")]
    [InlineData("webhook.timeoutSeconds=60", "webhook.timeoutSeconds")]
    [InlineData("metrics.scheme=ftp", "metrics.scheme")]
    [InlineData("webhook.namespaceSelectr.x=y", "webhook: Additional property namespaceSelectr is not allowed")]
    public async Task The_values_schema_refuses_wrong_values(string set, string reason)
    {
        var (code, _, error) = await Helm.RunAsync("template", "ci", Helm.Chart, "--set", set);

        Assert.NotEqual(0, code);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Secret_mode_without_its_values_fails_with_the_reason()
    {
        var (code, _, error) = await Helm.RunAsync("template", "ci", Helm.Chart, "--set", "tls.mode=secret");

        Assert.NotEqual(0, code);
        Assert.Contains("is required with tls.mode secret", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_chart_readme_documents_every_value()
    {
        var readme = await File.ReadAllTextAsync(Path.Combine(Helm.Chart, "README.md"));
        var values = YamlJsonOf(Path.Combine(Helm.Chart, "values.yaml"));

        var missing = Leaves(values, "").Where(v => !readme.Contains($"`{v}`", StringComparison.Ordinal)).ToList();

        Assert.True(missing.Count == 0, "undocumented values: " + string.Join(", ", missing));
    }

    private static IEnumerable<string> Leaves(JsonNode? node, string path) => node is JsonObject obj && obj.Count > 0
        ? obj.SelectMany(p => Leaves(p.Value, path.Length == 0 ? p.Key : $"{path}.{p.Key}"))
        : [path];

    private static JsonObject YamlJsonOf(string file) => (JsonObject)ConfigInjector.Manifests.YamlJson.Parse(File.ReadAllText(file))[0]!;
}
