using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ConfigInjector.Cli;
using ConfigInjector.TestSupport;

namespace ConfigInjector.Tests.Cli;

/// <summary>
/// <c>configinjector version</c>: the version the chart and the image name, the commit the binary was built from, and
/// how it was built, so a bug report names exactly what ran.
/// </summary>
public partial class VersionCommandTests
{
    [Fact]
    public async Task It_prints_the_charts_app_version_the_commit_built_and_the_build_settings()
    {
        var (code, output, _) = await CliRunner.RunAsync("version", "--output", "json");

        Assert.Equal(ExitCodes.Ok, code);
        var version = JsonNode.Parse(output)!;
        Assert.Equal(ChartAppVersion(), version["version"]!.GetValue<string>());
        Assert.Equal(await HeadCommitAsync(), version["commit"]!.GetValue<string>());
        // The tests run the JIT build of the Debug configuration; the image's Native AOT binary is checked by image-smoke.
        Assert.Equal(("Debug", "JIT"), (version["configuration"]!.GetValue<string>(), version["compilation"]!.GetValue<string>()));
        Assert.StartsWith(".NET 10", version["runtime"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_text_form_is_one_aligned_line_per_field()
    {
        var (code, output, _) = await CliRunner.RunAsync("version");

        Assert.Equal(ExitCodes.Ok, code);
        var lines = output.TrimEnd('\n').Split('\n');
        Assert.Equal(["version", "commit", "configuration", "compilation", "runtime", "platform", "globalization", "gc"], lines.Select(l => l.Split(' ')[0]));
        // Every value starts in the same column.
        Assert.All(lines, l => Assert.Matches(@"^[a-z]+ +\S", l[..16]));
        Assert.All(lines, l => Assert.True(l[14] == ' ' && l[15] != ' ', l));
    }

    [Fact]
    public async Task An_unknown_output_is_a_usage_error()
    {
        var (code, _, error) = await CliRunner.RunAsync("version", "-o", "xml");

        Assert.Equal((ExitCodes.Usage, "configinjector: --output \"xml\": expected text or json\n"), (code, error));
    }

    [Fact]
    public void The_image_labels_the_version_the_chart_installs()
    {
        var dockerfile = File.ReadAllText(RepoPaths.Combine("Dockerfile"));

        Assert.Equal(ChartAppVersion(), DockerfileVersion().Match(dockerfile).Groups[1].Value);
    }

    private static string ChartAppVersion() =>
        ChartAppVersionLine().Match(File.ReadAllText(RepoPaths.Combine("charts", "config-injector", "Chart.yaml"))).Groups[1].Value;

    private static async Task<string> HeadCommitAsync()
    {
        var (code, output, error) = await ProcessRun.RunAsync(new ProcessStartInfo("git", ["-C", RepoPaths.Root, "rev-parse", "HEAD"]), TimeSpan.FromSeconds(30));
        return code == 0 ? output.Trim() : throw new InvalidOperationException("git rev-parse HEAD: " + error);
    }

    [GeneratedRegex(@"(?m)^appVersion:\s*""?([^""\s]+)")]
    private static partial Regex ChartAppVersionLine();

    [GeneratedRegex(@"(?m)^ARG VERSION=(\S+)")]
    private static partial Regex DockerfileVersion();
}
