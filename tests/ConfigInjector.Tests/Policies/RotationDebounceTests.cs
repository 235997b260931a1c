using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using ConfigInjector.Policies;

namespace ConfigInjector.Tests.Policies;

/// <summary><c>rotation.debounce</c> as a SecretPolicy writes it: read with the interval, 10s when omitted, 0s allowed, the shortest of several policies wins.</summary>
public class RotationDebounceTests
{
    [Theory]
    [InlineData("rotation: { interval: 5m, debounce: 30s }", 30)]
    [InlineData("rotation: { interval: 5m }", 10)]
    [InlineData("rotation: { debounce: 0s }", 0)]
    public void The_debounce_is_read_from_the_rotation(string rotation, int seconds)
    {
        var loaded = PolicyDocumentReader.Parse(Policy("payments", rotation), "p.yaml");

        Assert.Empty(loaded.Errors);
        Assert.Equal(TimeSpan.FromSeconds(seconds), Assert.Single(loaded.Policies).Rotation.Debounce);
    }

    [Fact]
    public void A_debounce_that_is_no_duration_is_refused_with_its_field()
    {
        var loaded = PolicyDocumentReader.Parse(Policy("payments", "rotation: { debounce: soon }"), "p.yaml");

        Assert.Contains("spec.rotation.debounce: \"soon\" is not a duration", Assert.Single(loaded.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Of_several_policies_that_allow_a_ref_the_shortest_debounce_wins()
    {
        var policies = PolicyDocumentReader.Parse(Policy("a", "rotation: { debounce: 30s }") + "---\n" + Policy("b", "rotation: { debounce: 5s }"), "p.yaml").Policies;

        var decision = PolicyEvaluator.Evaluate(policies, new Subject("payments", "api"), ReferenceParser.Parse("dev:app/db#password").Value!);

        Assert.Equal(TimeSpan.FromSeconds(5), decision.Rotation.Debounce);
    }

    private static string Policy(string name, string rotation) => $$"""
        apiVersion: configinjector.io/v1alpha1
        kind: SecretPolicy
        metadata: { name: {{name}} }
        spec:
          subjects: { namespaces: [payments] }
          rules: [{ backend: dev, paths: ["app/**"] }]
          {{rotation}}

        """;
}
