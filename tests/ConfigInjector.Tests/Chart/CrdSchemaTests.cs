using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ConfigInjector.Manifests;
using ConfigInjector.Policies;
using ConfigInjector.Tests.Configuration;
using ConfigInjector.TestSupport;

namespace ConfigInjector.Tests.Chart;

/// <summary>
/// The CRDs refuse at <c>kubectl apply</c> what the webhook would refuse, where a schema can say it: their
/// openAPIV3Schema, as JSON Schema (<see cref="CrdSchema"/>), takes every example policy and refuses every policy the
/// webhook refuses in the tests, but for those <see cref="RefusedPolicies"/> marks as caught by a CEL rule (no API
/// server runs here to evaluate one), by the API server itself, or by the webhook alone (with the reason). The schemas
/// are structural, as the API server requires of a CRD
/// (https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#specifying-a-structural-schema).
/// </summary>
public sealed partial class CrdSchemaTests
{
    public static TheoryData<string> Plurals => ["secretpolicies", "configprofiles"];

    private static CrdSchema Of(string plural) => CrdSchema.All.Single(c => c.Plural == plural);

    [Theory]
    [MemberData(nameof(Plurals))]
    public void The_schema_is_structural(string plural)
    {
        var openApi = Of(plural).OpenApi;
        var problems = new List<string>();
        foreach (var (path, node) in CrdSchema.Nodes(openApi, ""))
        {
            var inJunctor = path.Contains("|anyOf", StringComparison.Ordinal) || path.Contains("|allOf", StringComparison.Ordinal)
                || path.Contains("|oneOf", StringComparison.Ordinal) || path.Contains("|not", StringComparison.Ordinal);
            if (!inJunctor && node["type"] is null && node["x-kubernetes-int-or-string"] is null && node["x-kubernetes-preserve-unknown-fields"] is null)
                problems.Add($"{path}: no type");
            if (node["properties"] is not null && node["additionalProperties"] is not null)
                problems.Add($"{path}: properties and additionalProperties together");
            if (inJunctor)
            {
                foreach (var refused in (string[])["type", "description", "default", "additionalProperties", "nullable"])
                {
                    if (node[refused] is not null)
                        problems.Add($"{path}: {refused} inside a logical junctor");
                }
                if (node.Any(p => p.Key.StartsWith("x-kubernetes-", StringComparison.Ordinal)))
                    problems.Add($"{path}: an x-kubernetes- extension inside a logical junctor");
            }
        }
        // A field a junctor names must be specified outside it too (the schema's "projection").
        foreach (var (path, node) in CrdSchema.Nodes(openApi, "").Where(n => !n.Path.Contains('|', StringComparison.Ordinal)))
        {
            foreach (var junctor in (string[])["anyOf", "allOf", "oneOf"])
            {
                foreach (var branch in (node[junctor] as JsonArray ?? []).OfType<JsonObject>())
                {
                    var named = (branch["properties"] as JsonObject)?.Select(p => p.Key) ?? [];
                    var required = (branch["required"] as JsonArray)?.Select(r => r!.GetValue<string>()) ?? [];
                    problems.AddRange(named.Concat(required).Where(n => (node["properties"] as JsonObject)?.ContainsKey(n) != true).Select(n => $"{path}|{junctor}: {n} is not specified outside it"));
                }
            }
        }
        if (openApi["properties"]?["metadata"] is JsonObject metadata)
            problems.Add($"metadata may restrict name and generateName only: {metadata.ToJsonString()}");
        var preserved = CrdSchema.Nodes(openApi, "").Where(n => n.Node["x-kubernetes-preserve-unknown-fields"] is not null).Select(n => n.Path).ToList();

        Assert.True(problems.Count == 0, string.Join("\n", problems));
        // Nowhere is an unknown field kept: every field of a policy is known.
        Assert.Empty(preserved);
    }

    [Fact]
    public void The_cel_rules_are_these_few()
    {
        // None of them was evaluated by an API server here; each is small and named in the README.
        Assert.Equal([".spec.rotation.interval: duration(self) > duration('0s')"], CrdSchema.SecretPolicies.CelRules());
        Assert.Equal([".spec: !has(self.env) || !has(self.secretEnv) || self.secretEnv.all(name, !(name in self.env))"], CrdSchema.ConfigProfiles.CelRules());
    }

    [Theory]
    [MemberData(nameof(Plurals))]
    public void Every_printer_column_points_at_a_field_of_the_schema(string plural)
    {
        var crd = Of(plural);
        var columns = crd.Crd["spec"]!["versions"]![0]!["additionalPrinterColumns"]!.AsArray().Select(c => c!["jsonPath"]!.GetValue<string>()).ToList();
        var fields = CrdSchema.Nodes(crd.OpenApi, "").Select(n => n.Path).ToHashSet(StringComparer.Ordinal);
        fields.UnionWith([".metadata.creationTimestamp"]);

        // ".spec.rules[*].backend" and '.status.conditions[?(@.type=="Ready")].status' walk the items of an array.
        var missing = columns.Select(c => (Column: c, Field: ArrayStep().Replace(c, "[]"))).Where(c => !fields.Contains(c.Field)).ToList();

        Assert.True(missing.Count == 0, "printer columns without a field: " + string.Join(", ", missing.Select(m => m.Column)));
        Assert.Contains(".status.conditions[?(@.type==\"Ready\")].status", columns);
        Assert.Contains(".status.conditions[?(@.type==\"Ready\")].reason", columns);
    }

    [Fact]
    public void Every_example_policy_fits_the_schema()
    {
        var documents = Directory.GetFiles(Path.Combine(RepoPaths.Examples, "policies"), "*.yaml")
            .SelectMany(f => YamlJson.Parse(File.ReadAllText(f)).OfType<JsonObject>().Select(d => (Where: Path.GetFileName(f), Item: d)))
            .Concat(ReadmePolicies("README.md")).Concat(ReadmePolicies(Path.Combine("charts", "config-injector", "README.md")))
            .ToList();

        Assert.Contains(documents, d => d.Item["kind"]?.GetValue<string>() == "SecretPolicy");
        Assert.Contains(documents, d => d.Item["kind"]?.GetValue<string>() == "ConfigProfile");
        foreach (var (where, item) in documents)
        {
            // Valid for the webhook too, so the schema is checked against policies that are in use.
            Assert.Empty(PolicyDocumentReader.Parse(item.ToJsonString(), where).Errors);
            Assert.True(CrdSchema.ForKind(item["kind"]?.GetValue<string>()).Problem(item) is null, $"{where}: {item["metadata"]?["name"]}: {CrdSchema.ForKind(item["kind"]?.GetValue<string>()).Problem(item)}");
        }
    }

    [Fact]
    public async Task The_policies_the_chart_renders_fit_the_schema()
    {
        var objects = await Helm.TemplateAsync("--set-json", """
            policies=[
              {"kind":"SecretPolicy","name":"payments","spec":{"subjects":{"namespaces":["payments","payments-*"],"serviceAccounts":["api"]},
                "rules":[{"backend":"vault-prod","paths":["secret/payments/**"],"keys":["*"]}],"rotation":{"interval":"5m","onChange":"restart"},"onBackendError":"allow-stale"}},
              {"kind":"ConfigProfile","name":"observability","spec":{"selector":{"namespaces":["*"],"podLabels":{"tier":"backend"}},
                "env":{"OTEL_EXPORTER_OTLP_ENDPOINT":"http://otel-collector.observability:4317"},"secretEnv":{"SENTRY_DSN":"vault-prod:secret/shared/sentry#dsn"}}}]
            """);
        var policies = objects.Where(o => o["apiVersion"]?.GetValue<string>() == PolicyDocumentReader.ApiVersion).ToList();

        Assert.Equal(["ConfigProfile", "SecretPolicy"], policies.Select(p => p["kind"]!.GetValue<string>()).Order());
        foreach (var item in policies)
        {
            Assert.Empty(PolicyDocumentReader.Parse(item.ToJsonString(), "chart").Errors);
            Assert.True(CrdSchema.ForKind(item["kind"]!.GetValue<string>()).Problem(item) is null, CrdSchema.ForKind(item["kind"]!.GetValue<string>()).Problem(item));
        }
    }

    [Theory]
    [MemberData(nameof(RefusedPolicies.InCluster), MemberType = typeof(RefusedPolicies))]
    public void A_policy_the_webhook_refuses_is_refused_at_apply_where_a_schema_can_say_it(string yaml, RefusedBy by, string why)
    {
        var item = (JsonObject)YamlJson.Parse(yaml)[0]!;
        var problem = CrdSchema.ForKind(item["kind"]!.GetValue<string>()).Problem(item);

        Assert.NotEmpty(PolicyDocumentReader.Parse(yaml, "p.yaml").Errors);
        if (by == RefusedBy.Schema)
        {
            Assert.True(problem is not null, "the schema takes it");
            return;
        }
        // Not the schema's to refuse: say who does, and why the schema cannot.
        Assert.True(problem is null, $"the schema refuses it ({problem}): mark it {nameof(RefusedBy.Schema)}");
        Assert.False(string.IsNullOrWhiteSpace(why));
        if (by == RefusedBy.Cel)
            Assert.NotEmpty(CrdSchema.ForKind(item["kind"]!.GetValue<string>()).CelRules());
    }

    [Fact]
    public void The_status_the_leader_writes_fits_the_schema()
    {
        var policy = (JsonObject)YamlJson.Parse(File.ReadAllText(Path.Combine(RepoPaths.Examples, "policies", "dev-apps.yaml")))[0]!;
        policy["status"] = ConfigInjector.Kubernetes.PolicyConditions.Next(null, 3, "spec.onBackendError: \"ignore\" is not deny, allow-stale or skip", DateTimeOffset.UtcNow);
        var valid = (JsonObject)policy.DeepClone();
        valid["status"] = ConfigInjector.Kubernetes.PolicyConditions.Next((JsonObject)policy["status"]!, 4, null, DateTimeOffset.UtcNow);

        Assert.Null(CrdSchema.SecretPolicies.Problem(policy));
        Assert.Null(CrdSchema.SecretPolicies.Problem(valid));
    }

    /// <summary>The policies in a markdown file's yaml blocks.</summary>
    private static IEnumerable<(string Where, JsonObject Item)> ReadmePolicies(string file) =>
        YamlBlock().Matches(File.ReadAllText(RepoPaths.Combine(file)))
            .Where(m => m.Groups[1].Value.Contains(PolicyDocumentReader.ApiVersion, StringComparison.Ordinal))
            .SelectMany(m => YamlJson.Parse(m.Groups[1].Value).OfType<JsonObject>())
            .Where(d => d["apiVersion"]?.GetValue<string>() == PolicyDocumentReader.ApiVersion)
            .Select(d => (file, d));

    [GeneratedRegex(@"\[(\*|\?\(@\.type==""Ready""\))\]")]
    private static partial Regex ArrayStep();

    [GeneratedRegex(@"```yaml\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex YamlBlock();
}
