using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;

namespace ConfigInjector.Core.Tests.Policies;

public class PolicyEvaluatorTests
{
    private static readonly SecretPolicy Payments = new(
        "payments",
        new PolicySubjects(["payments", "payments-*"], ["api", "worker"]),
        [new PolicyRule("vault-prod", ["secret/payments/**"], ["*"])],
        RotationSettings.Default,
        BackendErrorMode.AllowStale);

    private static readonly SecretPolicy SharedSentry = new(
        "shared-sentry",
        new PolicySubjects(["*"], null),
        [new PolicyRule("vault-prod", ["secret/shared/sentry"], ["dsn"])],
        new RotationSettings(TimeSpan.FromMinutes(1), RotationMode.None),
        BackendErrorMode.Skip);

    private static readonly SecretPolicy PaymentsStrict = new(
        "payments-strict",
        new PolicySubjects(["payments"], null),
        [new PolicyRule("vault-prod", ["secret/payments/db"], ["password"])],
        new RotationSettings(TimeSpan.FromMinutes(10), RotationMode.Restart),
        BackendErrorMode.Deny);

    private static readonly SecretPolicy[] All = [Payments, SharedSentry, PaymentsStrict];

    // namespace, service account, ref, allowed, deciding policy
    public static TheoryData<string, string, string, bool, string?> Cases => new()
    {
        { "payments", "api", "vault-prod:secret/payments/db#password", true, "payments" },
        { "payments-eu", "worker", "vault-prod:secret/payments/a/b#c", true, "payments" },
        { "payments", "default", "vault-prod:secret/payments/db#user", false, null },
        { "payments", "default", "vault-prod:secret/payments/db#password", true, "payments-strict" },
        { "paymentsx", "api", "vault-prod:secret/payments/db#password", false, null },
        { "payments", "api", "vault-other:secret/payments/db#password", false, null },
        { "payments", "api", "vault-prod:secret/paymentsx/db#password", false, null },
        { "payments", "api", "vault-prod:secret/payments#password", true, "payments" },
        { "web", "default", "vault-prod:secret/shared/sentry#dsn", true, "shared-sentry" },
        { "web", "default", "vault-prod:secret/shared/sentry#token", false, null },
        { "web", "default", "vault-prod:secret/shared/sentry", false, null },
        { "payments", "api", "vault-prod:secret/payments/db", true, "payments" },
        { "payments", "api", "vault-prod:secret/payments/db#password@7", true, "payments" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Decides_by_subjects_backend_paths_and_keys(string ns, string sa, string reference, bool allowed, string? policy)
    {
        var decision = PolicyEvaluator.Evaluate(All, new Subject(ns, sa), Ref(reference));

        Assert.Equal(allowed, decision.Allowed);
        Assert.Equal(policy, decision.Policy);
    }

    [Fact]
    public void Default_deny_names_namespace_service_account_and_ref()
    {
        var decision = PolicyEvaluator.Evaluate(All, new Subject("web", "frontend"), Ref("vault-prod:secret/payments/db#password"));

        Assert.False(decision.Allowed);
        Assert.Equal("namespace web, service account frontend: no SecretPolicy allows vault-prod:secret/payments/db#password", decision.Reason);
    }

    [Fact]
    public void No_policies_at_all_denies_everything()
    {
        Assert.False(PolicyEvaluator.Evaluate([], new Subject("default", "default"), Ref("dev:app/db#user")).Allowed);
    }

    [Fact]
    public void When_several_policies_allow_a_ref_the_strictest_settings_win()
    {
        var decision = PolicyEvaluator.Evaluate(All, new Subject("payments", "api"), Ref("vault-prod:secret/payments/db#password"));

        Assert.True(decision.Allowed);
        Assert.Equal("payments", decision.Policy);
        Assert.Equal(BackendErrorMode.Deny, decision.OnBackendError);
        Assert.Equal(TimeSpan.FromMinutes(5), decision.Rotation.Interval);
        Assert.Equal(RotationMode.Restart, decision.Rotation.OnChange);
    }

    [Fact]
    public void Path_only_evaluation_ignores_keys_for_secrets_from()
    {
        var subject = new Subject("web", "default");

        Assert.False(PolicyEvaluator.Evaluate(All, subject, Ref("vault-prod:secret/shared/sentry")).Allowed);
        Assert.True(PolicyEvaluator.Evaluate(All, subject, Ref("vault-prod:secret/shared/sentry"), pathOnly: true).Allowed);
    }

    private static SecretReference Ref(string text) => ReferenceParser.Parse(text).Value!;
}
