using System.Text.Json.Nodes;
using ConfigInjector.TestSupport;

namespace ConfigInjector.Tests.Chart;

/// <summary>
/// The Grafana dashboard (<c>metrics.dashboard.enabled</c>): a ConfigMap the Grafana sidecar imports, with the panels
/// an operator looks for. That its queries name metrics and labels the webhook exports is PrometheusScrapeTests' job.
/// </summary>
public class DashboardTests
{
    /// <summary>What issue 23 asks the dashboard to show, each a panel of its own.</summary>
    private static readonly string[] Panels =
    [
        "Admissions by result", "Admission latency percentiles", "Backend calls and errors", "Cache hit ratio", "Rotations",
        "Restarts", "Pods on a stale version", "Unverified Secrets", "Leader",
    ];

    public static async Task<JsonObject> RenderedDashboardAsync()
    {
        var configMap = (await Helm.TemplateAsync("--set", "metrics.dashboard.enabled=true")).Single(o =>
            o["kind"]!.GetValue<string>() == "ConfigMap" && o["metadata"]!["name"]!.GetValue<string>() == "ci-config-injector-dashboard");
        return JsonNode.Parse(configMap["data"]!["config-injector.json"]!.GetValue<string>())!.AsObject();
    }

    /// <summary>Every query of every panel.</summary>
    public static IEnumerable<string> Queries(JsonObject dashboard) =>
        dashboard["panels"]!.AsArray().SelectMany(p => p!["targets"]?.AsArray() ?? []).Select(t => t!["expr"]!.GetValue<string>());

    [Fact]
    public async Task Enabled_it_is_a_configmap_with_the_label_the_grafana_sidecar_watches()
    {
        var configMap = (await Helm.TemplateAsync("--set", "metrics.dashboard.enabled=true", "--set", "metrics.dashboard.annotations.grafana_folder=Platform"))
            .Single(o => o["kind"]!.GetValue<string>() == "ConfigMap" && o["metadata"]!["name"]!.GetValue<string>().EndsWith("-dashboard", StringComparison.Ordinal));

        // The sidecar's defaults: label grafana_dashboard, value "1" (grafana/helm-charts, sidecar.dashboards.label/labelValue).
        Assert.Equal("1", configMap["metadata"]!["labels"]!["grafana_dashboard"]!.GetValue<string>());
        Assert.Equal("Platform", configMap["metadata"]!["annotations"]!["grafana_folder"]!.GetValue<string>());
        var dashboard = JsonNode.Parse(configMap["data"]!["config-injector.json"]!.GetValue<string>())!;
        Assert.Equal("configinjector", dashboard["uid"]!.GetValue<string>());
    }

    [Fact]
    public async Task Off_by_default()
    {
        Assert.DoesNotContain(await Helm.TemplateAsync(), o => o["metadata"]!["name"]!.GetValue<string>().EndsWith("-dashboard", StringComparison.Ordinal));
    }

    [Fact]
    public async Task It_has_a_panel_for_each_thing_the_issue_names_and_every_panel_queries_the_chosen_data_source_and_release()
    {
        var dashboard = await RenderedDashboardAsync();
        var panels = dashboard["panels"]!.AsArray().Where(p => p!["type"]!.GetValue<string>() != "row").ToList();
        var titles = panels.Select(p => p!["title"]!.GetValue<string>()).ToList();

        Assert.All(Panels, wanted => Assert.Contains(titles, t => t.StartsWith(wanted, StringComparison.Ordinal)));
        Assert.Equal(panels.Count, panels.Select(p => p!["id"]!.GetValue<int>()).Distinct().Count());
        Assert.All(panels, p => Assert.Equal("${datasource}", p!["datasource"]!["uid"]!.GetValue<string>()));
        Assert.All(Queries(dashboard), q => Assert.Contains("job=~\"$job\"", q, StringComparison.Ordinal));
    }
}
