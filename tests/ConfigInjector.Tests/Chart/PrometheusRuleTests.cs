using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ConfigInjector.TestSupport;

namespace ConfigInjector.Tests.Chart;

/// <summary>
/// The chart's PrometheusRule (<c>metrics.prometheusRule.enabled</c>), rendered by the real Helm and run by the real
/// <c>promtool</c>: the rules load, and the unit tests in <c>testdata/alerts/alerts.test.yaml</c> see each alert fire
/// when it should, stay quiet when it should, and render its annotations.
/// </summary>
public partial class PrometheusRuleTests
{
    private static readonly string[] Severities = ["warning", "critical"];
    private static readonly string AlertTests = Path.Combine(AppContext.BaseDirectory, "testdata", "alerts", "alerts.test.yaml");

    public static async Task<JsonArray> RenderedRulesAsync(params string[] values)
    {
        var rule = (await Helm.TemplateAsync(["--set", "metrics.prometheusRule.enabled=true", .. values])).Single("PrometheusRule");
        return rule["spec"]!["groups"]!.AsArray().SelectMany(g => g!["rules"]!.AsArray()).Aggregate(new JsonArray(), (all, r) =>
        {
            all.Add(r!.DeepClone());
            return all;
        });
    }

    [Fact]
    public async Task Promtool_loads_the_rules_and_their_unit_tests_pass()
    {
        var folder = ScratchDirectory.Create();
        var rule = (await Helm.TemplateAsync("--set", "metrics.prometheusRule.enabled=true")).Single("PrometheusRule");
        // The PrometheusRule's spec is a Prometheus rule file; JSON is YAML.
        File.WriteAllText(Path.Combine(folder, "rules.yaml"), rule["spec"]!.ToJsonString());
        File.Copy(AlertTests, Path.Combine(folder, "alerts.test.yaml"));

        var check = await PrometheusTools.PromtoolAsync("check", "rules", Path.Combine(folder, "rules.yaml"));
        var test = await PrometheusTools.PromtoolAsync("test", "rules", Path.Combine(folder, "alerts.test.yaml"));

        Assert.True(check.Code == 0, check.Out + check.Err);
        Assert.True(test.Code == 0, test.Out + test.Err);
    }

    [Fact]
    public async Task Every_alert_has_a_unit_test_a_severity_and_a_runbook_anchor_of_its_own_name()
    {
        var rules = await RenderedRulesAsync();
        var tested = TestedAlert().Matches(File.ReadAllText(AlertTests)).Select(m => m.Groups[1].Value).ToHashSet();

        Assert.Equal(8, rules.Count);
        foreach (var rule in rules)
        {
            var name = rule!["alert"]!.GetValue<string>();
            Assert.Contains(name, tested);
            Assert.Contains(rule["labels"]!["severity"]!.GetValue<string>(), Severities);
            Assert.EndsWith("#" + name.ToLowerInvariant(), rule["annotations"]!["runbook_url"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task Thresholds_come_from_the_values_and_the_webhook_timeout()
    {
        var rules = await RenderedRulesAsync("--set", "webhook.timeoutSeconds=10", "--set", "metrics.prometheusRule.staleVersionFor=3h",
            "--set", "metrics.prometheusRule.certificateExpiryDays=30");
        JsonNode Alert(string name) => rules.Single(r => r!["alert"]!.GetValue<string>() == name)!;

        Assert.EndsWith("> 5", Alert("ConfigInjectorAdmissionSlow")["expr"]!.GetValue<string>().Trim());
        Assert.Equal("3h", Alert("ConfigInjectorPodsOnStaleVersion")["for"]!.GetValue<string>());
        Assert.EndsWith("< 30", Alert("ConfigInjectorCertificateExpiry")["expr"]!.GetValue<string>().Trim());
    }

    [Fact]
    public async Task Off_by_default()
    {
        Assert.Empty((await Helm.TemplateAsync()).OfKind("PrometheusRule"));
    }

    [GeneratedRegex(@"alertname:\s*(\w+)")]
    private static partial Regex TestedAlert();
}
