using System.Text.Json.Nodes;
using ConfigInjector.TestSupport;

namespace ConfigInjector.Tests.Chart;

/// <summary>
/// The chart's ports, each followed from the value through the container, its <c>serve</c> flags, the probes, the
/// Service and the NetworkPolicy, with named ports resolved to numbers as the kubelet and the network plugin do.
/// </summary>
public class ChartPortsTests
{
    private const string ApiServer = "10.0.0.0/24";
    private const string Prometheus = "\"monitoring\"";

    [Fact]
    public async Task Scrapers_let_in_by_metrics_from_reach_the_metrics_only_listener_and_never_the_webhook_port()
    {
        var objects = await Helm.TemplateAsync("--set", "networkPolicy.enabled=true", "--set", "metrics.serviceMonitor.enabled=true",
            "--set-json", """networkPolicy.from=[{"ipBlock":{"cidr":"10.0.0.0/24"}}]""",
            "--set-json", """networkPolicy.metricsFrom=[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"monitoring"}}}]""");
        var container = objects.WebhookContainer();
        var ingress = objects.Single("NetworkPolicy")["spec"]!["ingress"]!.AsArray();

        Assert.Equal([9090], RulePorts(ingress, Prometheus, container));
        Assert.Equal([8443], RulePorts(ingress, ApiServer, container));
        // That port is the listener that serves GET /metrics alone (MetricsListenerTests), as serve parses the flag.
        Assert.Equal("http://[::]:9090", objects.ServeArg("--metrics-urls"));
        Assert.Empty(ConfigInjector.Cli.CliApp.Parse([.. objects.ServeArgs()]).Errors);
        var endpoint = objects.Single("ServiceMonitor")["spec"]!["endpoints"]![0]!;
        Assert.Equal(("http", 9090), (endpoint["scheme"]!.GetValue<string>(), ServiceTarget(objects, endpoint["port"]!.GetValue<string>(), container)));
    }

    [Fact]
    public async Task On_a_private_gke_cluster_port_10250_carries_through_the_listener_the_probes_the_service_and_the_network_policy()
    {
        var objects = await Helm.TemplateAsync("--set", "webhook.port=10250", "--set", "networkPolicy.enabled=true");
        var container = objects.WebhookContainer();
        var clientConfig = objects.Single("MutatingWebhookConfiguration")["webhooks"]![0]!["clientConfig"]!["service"]!;

        Assert.Equal(10250, Resolve(container, "https"));
        Assert.Equal("https://[::]:10250", objects.ServeArg("--urls"));
        foreach (var probe in new[] { "startupProbe", "livenessProbe", "readinessProbe" })
            Assert.Equal((probe, 10250), (probe, Resolve(container, container[probe]!["httpGet"]!["port"]!)));
        // The API server still calls the Service on 443; the Service forwards to the container port.
        Assert.Equal(443, clientConfig["port"]!.GetValue<long>());
        var servicePort = objects.Single("Service")["spec"]!["ports"]!.AsArray().Single(p => p!["port"]!.GetValue<long>() == 443)!;
        Assert.Equal(10250, Resolve(container, servicePort["targetPort"]!));
        var ingress = objects.Single("NetworkPolicy")["spec"]!["ingress"]!.AsArray();
        Assert.Equal([10250], ingress.Single()!["ports"]!.AsArray().Select(p => Resolve(container, p!["port"]!)));
    }

    private static List<long> RulePorts(JsonArray ingress, string peer, JsonNode container) =>
        [.. ingress.Single(r => r!["from"]!.ToJsonString().Contains(peer, StringComparison.Ordinal))!["ports"]!.AsArray().Select(p => Resolve(container, p!["port"]!))];

    private static long ServiceTarget(IReadOnlyList<JsonObject> objects, string servicePortName, JsonNode container) =>
        Resolve(container, objects.Single("Service")["spec"]!["ports"]!.AsArray().Single(p => p!["name"]!.GetValue<string>() == servicePortName)!["targetPort"]!);

    /// <summary>A port as a number, or by the name of one of the container's ports.</summary>
    private static long Resolve(JsonNode container, JsonNode port) =>
        port.GetValueKind() == System.Text.Json.JsonValueKind.Number
            ? port.GetValue<long>()
            : container["ports"]!.AsArray().Single(p => p!["name"]!.GetValue<string>() == port.GetValue<string>())!["containerPort"]!.GetValue<long>();
}
