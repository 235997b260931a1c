using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using ConfigInjector.Manifests;
using ConfigInjector.Policies;
using ConfigInjector.Tests.Chart;

namespace ConfigInjector.Tests.Dynamic;

/// <summary>
/// <c>dynamic: true</c> on a SecretPolicy rule (DESIGN.md §4): read by the policy reader and the CRD alike, and the
/// decision says a ref is dynamic only when every allowing rule says so.
/// </summary>
public sealed class DynamicPolicyTests
{
    private const string Policy = """
        apiVersion: configinjector.io/v1alpha1
        kind: SecretPolicy
        metadata: { name: payments }
        spec:
          subjects: { namespaces: [payments] }
          rules:
            - backend: vault-prod
              paths: ["secret/payments/**"]
            - backend: vault-prod
              paths: ["database/creds/payments-app"]
              dynamic: true
        """;

    private static readonly Subject Api = new("payments", "api");

    private static SecretReference Ref(string text) => ReferenceParser.Parse(text).Value!;

    [Fact]
    public void A_dynamic_rule_makes_its_paths_dynamic_and_no_other()
    {
        var policies = PolicyDocumentReader.Parse(Policy, "p.yaml");
        Assert.Empty(policies.Errors);

        var dynamic = PolicyEvaluator.Evaluate(policies.Policies, Api, Ref("vault-prod:database/creds/payments-app#username"));
        var kv = PolicyEvaluator.Evaluate(policies.Policies, Api, Ref("vault-prod:secret/payments/db#password"));

        Assert.Equal((true, true, "allowed by SecretPolicy payments rule 1 (dynamic)"), (dynamic.Allowed, dynamic.Dynamic, dynamic.Reason));
        Assert.Equal((true, false), (kv.Allowed, kv.Dynamic));
    }

    [Fact]
    public void A_kv_rule_of_another_policy_for_the_same_path_keeps_it_a_kv_read()
    {
        var policies = PolicyDocumentReader.Parse(Policy + "\n---\n" + Policy.Replace("name: payments", "name: broad", StringComparison.Ordinal)
            .Replace("paths: [\"secret/payments/**\"]", "paths: [\"database/**\"]", StringComparison.Ordinal), "p.yaml");

        var decision = PolicyEvaluator.Evaluate(policies.Policies, Api, Ref("vault-prod:database/creds/payments-app#username"));

        Assert.True(decision.Allowed);
        Assert.False(decision.Dynamic);
    }

    [Fact]
    public void The_crd_takes_the_dynamic_field_as_a_boolean()
    {
        var json = YamlJson.Parse(Policy)[0];

        Assert.Null(CrdSchema.SecretPolicies.Problem(json));
    }
}
