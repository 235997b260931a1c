using System.Text.Json.Nodes;
using ConfigInjector.Hosting;
using ConfigInjector.TestSupport;
using Microsoft.Extensions.Configuration;

namespace ConfigInjector.Tests.Chart;

/// <summary>
/// The chart's <c>tracing</c> values, rendered by the real Helm: off by default (no <c>OTEL_*</c> variable at all); with
/// an endpoint, the standard variables serve reads to turn tracing on; wrong values are refused before install.
/// </summary>
public class TracingChartTests
{
    private static Dictionary<string, string> Env(IReadOnlyList<JsonObject> objects) =>
        objects.WebhookContainer()["env"]!.AsArray().Where(e => e!["value"] is not null)
            .ToDictionary(e => e!["name"]!.GetValue<string>(), e => e!["value"]!.GetValue<string>());

    [Fact]
    public async Task Off_by_default_no_otel_variable_is_set()
    {
        var objects = await Helm.TemplateAsync();

        Assert.DoesNotContain(Env(objects).Keys, k => k.StartsWith("OTEL_", StringComparison.Ordinal));
        Assert.False(TracingSetup.Enabled(new ConfigurationBuilder().AddInMemoryCollection(Env(objects)!).Build()));
    }

    [Fact]
    public async Task An_endpoint_sets_the_standard_variables_that_turn_tracing_on()
    {
        string[] values = ["--set", "tracing.otlpEndpoint=http://otel-collector.observability:4318", "--set", "tracing.protocol=http/protobuf",
            "--set", "tracing.sampler=parentbased_traceidratio", "--set", "tracing.samplerArg=0.25", "--set", "tracing.resourceAttributes=deployment.environment=prod"];
        var objects = await Helm.TemplateAsync(values);

        var env = Env(objects);
        Assert.Equal("http://otel-collector.observability:4318", env["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        Assert.Equal("http/protobuf", env["OTEL_EXPORTER_OTLP_PROTOCOL"]);
        Assert.Equal(("parentbased_traceidratio", "0.25"), (env["OTEL_TRACES_SAMPLER"], env["OTEL_TRACES_SAMPLER_ARG"]));
        Assert.Equal("configinjector", env["OTEL_SERVICE_NAME"]);
        // $(POD_NAME) expands because POD_NAME is defined before it in the same container.
        Assert.Equal("k8s.pod.name=$(POD_NAME),k8s.namespace.name=$(POD_NAMESPACE),deployment.environment=prod", env["OTEL_RESOURCE_ATTRIBUTES"]);
        var names = objects.WebhookContainer()["env"]!.AsArray().Select(e => e!["name"]!.GetValue<string>()).ToList();
        Assert.True(names.IndexOf("POD_NAME") < names.IndexOf("OTEL_RESOURCE_ATTRIBUTES"));
        Assert.True(TracingSetup.Enabled(new ConfigurationBuilder().AddInMemoryCollection(env!).Build()));
        var (code, output, error) = await Helm.RunAsync(["lint", "--strict", Helm.Chart, "--namespace", Helm.Namespace, .. values]);
        Assert.True(code == 0, output + error);
    }

    [Theory]
    [InlineData("tracing.otlpEndpoint=otel-collector:4317", "tracing.otlpEndpoint: Does not match pattern")]
    [InlineData("tracing.protocol=zipkin", "tracing.protocol: tracing.protocol must be one of")]
    [InlineData("tracing.sampler=ratio", "tracing.sampler: tracing.sampler must be one of")]
    [InlineData("tracing.samplerArg=2", "tracing.samplerArg: Must validate at least one schema")]
    [InlineData("tracing.enabled=true", "tracing: Additional property enabled is not allowed")]
    public async Task Wrong_values_are_refused_before_install(string set, string reason)
    {
        var (code, _, error) = await Helm.RunAsync(["template", "ci", Helm.Chart, "--set", set]);

        Assert.NotEqual(0, code);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }
}
