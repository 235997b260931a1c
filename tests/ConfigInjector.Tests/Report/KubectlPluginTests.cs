using System.Text.Json.Nodes;
using ConfigInjector.Cli;
using ConfigInjector.TestSupport;

namespace ConfigInjector.Tests.Report;

/// <summary>
/// The CLI as a kubectl plugin: the real kubectl finds <c>kubectl-configinjector</c> on its PATH and hands it the
/// arguments as typed, so <c>kubectl configinjector report</c> must honour kubectl's own <c>--kubeconfig</c>,
/// <c>--context</c> and <c>-n</c>, and the KUBECONFIG it inherits. The kubeconfig's current context is a cluster
/// nobody answers at: only a report that took <c>--context</c> reaches the fake API server.
/// </summary>
public sealed class KubectlPluginTests : IAsyncLifetime
{
    private ClusterEnvironment _cluster = null!;
    private ReportSpread _spread = null!;
    private string _kubeconfig = null!;

    public async Task InitializeAsync()
    {
        _cluster = await ClusterEnvironment.StartAsync();
        _spread = await ReportSpread.CreateAsync(_cluster);
        _kubeconfig = Path.Combine(_spread.Server.WorkDir, "two-contexts.kubeconfig");
        await File.WriteAllTextAsync(_kubeconfig, $$"""
            apiVersion: v1
            kind: Config
            clusters:
              - name: staging
                cluster: { server: "https://127.0.0.1:1" }
              - name: fake
                cluster: { server: "{{_cluster.Api.Address.ToString().TrimEnd('/')}}" }
            users:
              - name: oncall
                user: { token: {{ReportSpread.CliToken}} }
            contexts:
              - name: staging
                context: { cluster: staging, user: oncall }
              - name: incident
                context: { cluster: fake, user: oncall }
            current-context: staging
            """);
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Kubectl_configinjector_report_takes_the_kubeconfig_context_and_namespace_kubectl_was_given()
    {
        var (code, output, error) = await Kubectl.RunWithPluginAsync(new Dictionary<string, string>(),
            "configinjector", "report", "--ref", ReportSpread.Ref, "--kubeconfig", _kubeconfig, "--context", "incident", "-n", "shop", "--config", _spread.Config, "-o", "json");

        // Exit 1: pods in shop still hold version 1.
        Assert.True(code == ExitCodes.Failed, $"exit {code}: {error}");
        var namespaces = JsonNode.Parse(output)!["rows"]!.AsArray().Select(r => r!["namespace"]!.GetValue<string>()).Distinct();
        Assert.Equal(["shop"], namespaces);
    }

    [Fact]
    public async Task The_KUBECONFIG_kubectl_runs_with_is_the_plugins_too()
    {
        var (code, output, error) = await Kubectl.RunWithPluginAsync(new Dictionary<string, string> { ["KUBECONFIG"] = _kubeconfig },
            "configinjector", "report", "--ref", ReportSpread.Ref, "--context", "incident", "-n", "billing", "--config", _spread.Config);

        Assert.True(code == ExitCodes.Failed, $"exit {code}: {error}");
        Assert.Contains("billing", output, StringComparison.Ordinal);
        Assert.DoesNotContain("checkout", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_context_the_kubeconfig_lacks_is_one_line_and_exit_2()
    {
        var (code, _, error) = await Kubectl.RunWithPluginAsync(new Dictionary<string, string>(),
            "configinjector", "report", "--ref", ReportSpread.Ref, "--kubeconfig", _kubeconfig, "--context", "prod", "--config", _spread.Config);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("configinjector: --kubeconfig ", error, StringComparison.Ordinal);
        Assert.Contains("prod", error, StringComparison.Ordinal);
    }
}
