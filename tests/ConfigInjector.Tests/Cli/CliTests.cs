using System.Net;
using System.Net.Sockets;
using ConfigInjector.Cli;
using ConfigInjector.TestSupport;
using ConfigInjector.Tls;

namespace ConfigInjector.Tests.Cli;

public class CliTests
{
    private static Task<(int Code, string Out, string Err)> Run(params string[] args) => CliRunner.RunAsync(args);

    [Fact]
    public async Task Help_lists_the_verbs_and_exits_0()
    {
        var (code, output, _) = await Run("--help");

        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("serve", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_help_lists_its_options()
    {
        var (code, output, _) = await Run("serve", "--help");

        Assert.Equal(ExitCodes.Ok, code);
        foreach (var option in new[] { "--urls", "--metrics-urls", "--config", "--policies", "--tls-cert", "--tls-key" })
            Assert.Contains(option, output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "frobnicate" }, "configinjector: Unrecognized command or argument 'frobnicate'. (see configinjector --help)")]
    [InlineData(new[] { "serve", "--urls", "http://127.0.0.1:8443" }, "configinjector: --urls: \"http://127.0.0.1:8443\" is not https; the API server only calls webhooks over TLS")]
    [InlineData(new[] { "serve", "--urls", "https://example.com:8443" }, "configinjector: --urls: \"https://example.com:8443\": use an IP address, localhost or *")]
    [InlineData(new[] { "serve", "--metrics-urls", "ftp://127.0.0.1:9090" }, "configinjector: --metrics-urls: \"ftp://127.0.0.1:9090\" is neither http nor https")]
    [InlineData(new[] { "serve", "--metrics-urls", "http://127.0.0.1:9090/metrics" }, "configinjector: --metrics-urls: \"http://127.0.0.1:9090/metrics\" must not have a path")]
    [InlineData(new[] { "serve", "--config", "/nonexistent/injector.yaml" }, "configinjector: /nonexistent/injector.yaml: cannot read the config file:")]
    [InlineData(new[] { "serve", "--policies", "/nonexistent/policies" }, "configinjector: --policies: /nonexistent/policies is not a folder")]
    [InlineData(new[] { "serve", "--tls-cert", "/tmp/x.crt" }, "configinjector: --tls-cert and --tls-key go together")]
    public async Task Usage_and_input_errors_exit_2_with_one_line(string[] args, string error)
    {
        var config = Path.Combine(RepoPaths.Examples, "injector.yaml");
        var withConfig = args[0] != "serve" || args.Contains("--config") ? args : [.. args, "--config", config, "--policies", Path.Combine(RepoPaths.Examples, "policies")];
        if (args.Contains("--policies"))
            withConfig = [.. args, "--config", config];

        var (code, output, stderr) = await Run(withConfig);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.StartsWith(error, stderr, StringComparison.Ordinal);
        Assert.Single(stderr.TrimEnd('\n').Split('\n'));
        Assert.Equal("", output);
    }

    [Fact]
    public async Task A_bad_config_file_stops_serve_with_file_line_and_field()
    {
        var dir = ScratchDirectory.Create();
        var config = Path.Combine(dir, "injector.yaml");
        await File.WriteAllTextAsync(config, "backends:\n  - name: dev\n    type: file\n    path: secrets.yaml\n    sensitiv: false\n");
        await File.WriteAllTextAsync(Path.Combine(dir, "secrets.yaml"), "a/b:\n  c: d\n");

        var (code, _, stderr) = await Run("serve", "--config", config, "--policies", dir);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal($"configinjector: {config}:5:5: backends[0].sensitiv: unknown field (did you mean sensitive?)\n", stderr);
    }

    [Fact]
    public async Task A_port_in_use_exits_2_with_the_reason()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var dir = ScratchDirectory.Create();
        DevCertificate.EnsureExists(dir, TimeProvider.System);

        var (code, _, stderr) = await Run("serve", "--urls", $"https://127.0.0.1:{port}",
            "--config", Path.Combine(RepoPaths.Examples, "injector.yaml"), "--policies", Path.Combine(RepoPaths.Examples, "policies"),
            "--tls-cert", Path.Combine(dir, "tls.crt"), "--tls-key", Path.Combine(dir, "tls.key"));

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("address already in use", stderr, StringComparison.OrdinalIgnoreCase);
    }
}
