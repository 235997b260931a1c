using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;

namespace ConfigInjector.Core.Tests.Policies;

public class UnknownBackendsTests
{
    private static SecretPolicy Policy(params string[] backends) => new("p", new PolicySubjects(["shop"], null),
        [.. backends.Select(b => new PolicyRule(b, ["secret/**"], null))], RotationSettings.Default, BackendErrorMode.Deny);

    private static ConfigProfile Profile(string backend) => new("tracing", null, new Dictionary<string, string>(),
        new Dictionary<string, SecretReference> { ["OTEL_TOKEN"] = new(backend, "secret/otel", "token", null) });

    private static readonly HashSet<string> Configured = ["vault-prod", "azure-kv"];

    [Fact]
    public void Every_backend_configured_says_nothing() =>
        Assert.Null(UnknownBackends.Describe([Policy("vault-prod", "azure-kv")], [Profile("vault-prod")], Configured));

    [Fact]
    public void A_rules_backend_not_configured_is_named_with_the_configured_ones() =>
        Assert.Equal("names backend vault-prd, not configured in this install (configured: azure-kv, vault-prod): what it allows is never injected",
            UnknownBackends.Describe([Policy("vault-prod", "vault-prd", "vault-prd")], [], Configured));

    [Fact]
    public void A_profiles_secret_env_backend_counts_too_and_several_are_listed_once_each() =>
        Assert.Equal("names backends legacy, vault-prd, not configured in this install (configured: none): what they allow is never injected",
            UnknownBackends.Describe([Policy("vault-prd")], [Profile("legacy"), Profile("vault-prd")], new HashSet<string>()));
}
