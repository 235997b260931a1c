using ConfigInjector.Cli;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Fakes;

namespace ConfigInjector.Tests.Cli;

/// <summary>
/// <c>configinjector rotate</c> against the fake API server with a replica that leads and an hour-long interval: it
/// annotates the Secrets that use the ref and says so, the leader refreshes them, <c>--wait</c> ends when every pod
/// holds the new version (exit 0) or at the deadline (exit 1); bad input is one line and exit 2. Also as the kubectl plugin.
/// </summary>
public sealed class RotateCommandTests : IAsyncLifetime
{
    private ClusterEnvironment _cluster = null!;
    private WebhookServer _server = null!;
    private string _tls = null!;

    public async Task InitializeAsync()
    {
        _cluster = await ClusterEnvironment.StartAsync();
        _server = await Sync.RefreshAnnotationTests.LeaderAsync(_cluster);
        _tls = await _cluster.AdmitAsync(_server, ClusterEnvironment.PodOf(_cluster.Api.AddDeployment("shop", "proxy"))
            .WithAnnotation("configinjector.io/file.ca.crt", "vault-prod:secret/shop/tls#ca"), "proxy-1");
        await _cluster.AdmitAsync(_server, ClusterEnvironment.PodOf(_cluster.Api.AddDeployment("shop", "checkout"))
            .WithAnnotation("configinjector.io/secret.DB_PASSWORD", "vault-prod:secret/shop/db#password"), "checkout-1");
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Rotate_annotates_the_secrets_that_use_the_ref_and_waits_until_every_pod_holds_the_new_version()
    {
        _cluster.Vault.Put("secret/shop/tls", new Dictionary<string, string> { ["ca"] = "cluster-only-ca-v2" });

        var (code, output, error) = await Rotate("--ref", "vault-prod:secret/shop/tls", "--wait", "30s");

        Assert.True(code == ExitCodes.Ok, $"exit {code}: {error}");
        Assert.StartsWith($"secret/{_tls} -n shop annotated\n", output, StringComparison.Ordinal);
        Assert.Contains("holds the latest version", output, StringComparison.Ordinal);
        Assert.Equal("cluster-only-ca-v2", ClusterEnvironment.SecretValue(_cluster.Api.Get("secrets", "shop", _tls), "file.ca.crt"));
        Assert.DoesNotContain("cluster-only-", output + error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pod_still_on_the_older_version_at_the_deadline_is_exit_1()
    {
        _cluster.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "cluster-only-password-v2", ["user"] = "shop" });

        // The env consumer's restart is started, but nothing here replaces its pod: it keeps version 1.
        var (code, output, error) = await Rotate("--ref", "vault-prod:secret/shop/db#password", "--wait", "3s");

        Assert.Equal(ExitCodes.Failed, code);
        Assert.Contains("1 pods still on an older version after 3s", error, StringComparison.Ordinal);
        Assert.Contains("checkout-1", output, StringComparison.Ordinal);
        Assert.DoesNotContain("cluster-only-", output + error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "--ref", "no-colon" }, "configinjector: --ref \"no-colon\": no ':' after the backend name")]
    [InlineData(new[] { "--ref", "vault-prod:secret/shop/db", "--wait", "soon" }, "configinjector: --wait \"soon\": expected a duration such as 30s or 10m")]
    public async Task Bad_input_is_one_line_and_exit_2(string[] args, string expected)
    {
        var (code, _, error) = await Rotate(args);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.StartsWith(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_ref_no_secret_uses_annotates_nothing_and_is_exit_1()
    {
        var (code, output, error) = await Rotate("--ref", "vault-prod:secret/shop/typo", "-n", "shop");

        Assert.Equal(ExitCodes.Failed, code);
        Assert.Empty(output);
        Assert.Equal("no managed Secret uses vault-prod:secret/shop/typo in namespace shop: nothing to rotate\n", error);
    }

    [Fact]
    public async Task Kubectl_configinjector_rotate_runs_as_the_plugin()
    {
        var (code, output, error) = await Kubectl.RunWithPluginAsync(new Dictionary<string, string>(),
            "configinjector", "rotate", "--ref", "vault-prod:secret/shop/**", "--kubeconfig", Kubeconfig, "-n", "shop", "--config", Config);

        Assert.True(code == ExitCodes.Ok, $"exit {code}: {error}");
        Assert.Equal(2, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    private string Kubeconfig => _cluster.Api.WriteKubeconfig(_server.WorkDir, token: "security-oncall");

    private string Config => Path.Combine(_server.WorkDir, "config", "injector.yaml");

    private Task<(int Code, string Out, string Err)> Rotate(params string[] args) =>
        CliRunner.RunAsync(["rotate", .. args, "--kubeconfig", Kubeconfig, "--config", Config]);
}
