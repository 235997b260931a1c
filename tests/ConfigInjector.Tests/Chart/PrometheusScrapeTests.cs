using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ConfigInjector.Observability;
using ConfigInjector.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace ConfigInjector.Tests.Chart;

/// <summary>
/// A real Prometheus scrapes a running webhook's metrics listener and loads the chart's alert rules: every query of
/// the dashboard and of the PrometheusRule parses, and every metric and label it names is there. A metric or label
/// renamed in code fails here, not silently in someone's Grafana.
/// </summary>
public sealed partial class PrometheusScrapeTests
{
    /// <summary>The job the chart's rules select for release "ci": the ServiceMonitor's job is the Service's name.</summary>
    private const string Job = "ci-config-injector";

    [Fact]
    public async Task Every_metric_and_label_the_dashboard_and_the_alerts_use_is_scraped_from_a_running_webhook()
    {
        await using var webhook = await WebhookServer.StartAsync(settings: s => s with { MetricsUrls = ["http://127.0.0.1:0"] });
        await ProduceEverySeriesAsync(webhook);
        var ruleFile = (await Helm.TemplateAsync("--set", "metrics.prometheusRule.enabled=true")).Single("PrometheusRule")["spec"]!.ToJsonString();
        var alerts = (await PrometheusRuleTests.RenderedRulesAsync()).Select(r => r!["expr"]!.GetValue<string>());
        var panels = DashboardTests.Queries(await DashboardTests.RenderedDashboardAsync()).Select(GrafanaVariables);
        var metricsPort = webhook.Addresses.Single(a => a.Scheme == "http").Port;

        await using var prometheus = await PrometheusServer.StartAsync(new JsonObject
        {
            ["job_name"] = Job,
            // As the chart's ServiceMonitor (honorLabels): the pods' namespace label stays "namespace".
            ["honor_labels"] = true,
            ["static_configs"] = new JsonArray(new JsonObject { ["targets"] = new JsonArray($"127.0.0.1:{metricsPort}") }),
        }, ruleFile);
        await prometheus.WaitUntilAsync(async () => (await prometheus.SeriesAsync($"configinjector_sync_leader{{job=\"{Job}\"}}")).Count > 0,
            "the webhook's metrics were never scraped");

        var problems = new List<string>();
        foreach (var query in alerts.Concat(panels))
        {
            // Parses and evaluates, or throws with Prometheus' reason.
            await prometheus.ApiAsync("/api/v1/query?query=" + Uri.EscapeDataString(query));
            problems.AddRange(await MissingAsync(prometheus, query));
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems.Distinct()));
        // The expiry the certificate alert and panel read is the serving certificate's own.
        using var certificate = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(
            Path.Combine(webhook.WorkDir, "webhook-certs", "dev", "tls.crt"));
        var expiry = (await prometheus.ApiAsync("/api/v1/query?query=configinjector_certificate_expiry_timestamp_seconds"))["result"]![0]!["value"]![1]!.GetValue<string>();
        Assert.Equal(new DateTimeOffset(certificate.NotAfter).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), expiry);

        // The alerts, evaluated by Prometheus itself against what it scraped: each rule ran without an error.
        await prometheus.WaitUntilAsync(async () => (await RulesAsync(prometheus)).All(r => r!["lastEvaluation"]!.GetValue<string>()[..4] != "0001"),
            "the alert rules were never evaluated");
        Assert.All(await RulesAsync(prometheus), r => Assert.Equal((r!["name"]!.GetValue<string>(), "ok", ""),
            (r["name"]!.GetValue<string>(), r["health"]!.GetValue<string>(), r["lastError"]?.GetValue<string>() ?? "")));
    }

    /// <summary>
    /// Admissions make the admission, backend and cache series for real; what only the sync leader counts (it needs a
    /// cluster) is counted through the webhook's own metrics object, with the names and labels the code gives them.
    /// </summary>
    private static async Task ProduceEverySeriesAsync(WebhookServer webhook)
    {
        var injected = await webhook.PostReviewAsync(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Examples, "admission-review.json")));
        Assert.True(injected.IsSuccessStatusCode, await injected.Content.ReadAsStringAsync());
        await webhook.PostReviewAsync("not an AdmissionReview");
        var metrics = webhook.Services.GetRequiredService<InjectorMetrics>();
        foreach (var result in new[] { "updated", "error", "rejected" })
            metrics.Rotations.WithLabels(result).Inc();
        metrics.Restarts.WithLabels("shop", "Deployment", "started").Inc();
        metrics.PodsOnStaleVersion.WithLabels("shop").Set(2);
    }

    /// <summary>Each metric the query names has series, and each label it matches on or groups by is on one of them.</summary>
    private static async Task<List<string>> MissingAsync(PrometheusServer prometheus, string query)
    {
        var problems = new List<string>();
        var metrics = MetricName().Matches(query).Select(m => m.Value).Distinct().ToList();
        foreach (var metric in metrics)
        {
            if ((await prometheus.SeriesAsync($"{metric}{{job=\"{Job}\"}}")).Count == 0)
                problems.Add($"no series {metric} (in: {query})");
        }
        var matched = Selector().Matches(query).SelectMany(s => Matcher().Matches(s.Groups["matchers"].Value)
            .Select(m => (Metrics: (IReadOnlyList<string>)[s.Groups["metric"].Value], Label: m.Groups[1].Value)));
        var grouped = Grouping().Matches(query).SelectMany(g => g.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(label => ((IReadOnlyList<string>)metrics, label)));
        foreach (var (candidates, label) in matched.Concat(grouped).Distinct())
        {
            var found = false;
            foreach (var metric in candidates)
                found = found || (await prometheus.SeriesAsync($"{metric}{{job=\"{Job}\",{label}!=\"\"}}")).Count > 0;
            if (!found)
                problems.Add($"no label {label} on {string.Join(" or ", candidates)} (in: {query})");
        }
        return problems;
    }

    private static async Task<IReadOnlyList<JsonNode?>> RulesAsync(PrometheusServer prometheus) =>
        [.. (await prometheus.ApiAsync("/api/v1/rules"))["groups"]!.AsArray().SelectMany(g => g!["rules"]!.AsArray())];

    /// <summary>What Grafana puts in place of the dashboard's variables before it sends a query.</summary>
    private static string GrafanaVariables(string query) => GrafanaInterval().Replace(query.Replace("$job", Job, StringComparison.Ordinal), "1m");

    [GeneratedRegex(@"\bconfiginjector_[a-z0-9_]+")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"(?<metric>\bconfiginjector_[a-z0-9_]+)\{(?<matchers>[^}]*)\}")]
    private static partial Regex Selector();

    [GeneratedRegex(@"(\w+)\s*(?:=~|!~|!=|=)")]
    private static partial Regex Matcher();

    [GeneratedRegex(@"\b(?:by|without)\s*\(([^)]*)\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"\$__\w+")]
    private static partial Regex GrafanaInterval();
}
