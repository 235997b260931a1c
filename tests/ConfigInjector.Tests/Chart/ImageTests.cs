using System.Diagnostics;
using ConfigInjector.TestSupport;
using Xunit.Abstractions;

namespace ConfigInjector.Tests.Chart;

/// <summary>
/// The image the chart runs: built with Debian's podman and runc (no registry here: the base is assembled from the
/// host's libraries, the binary published on the host), its publish free of symbols and XML docs, run read-only with
/// no <c>--user</c> so that the image's own USER 65532 is what runs, answering /healthz and an AdmissionReview over
/// TLS, labelled with its version and commit, its CycloneDX SBOM inside. Without podman this fails with the reason; it never skips.
/// </summary>
public class ImageTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_image_builds_and_serves_admissions_read_only_as_a_non_root_user()
    {
        // ./test.sh starts the script beside the build (its publish is the suite's longest step) and names its log.
        var (exitCode, text) = Environment.GetEnvironmentVariable("CONFIGINJECTOR_IMAGE_SMOKE_LOG") is { Length: > 0 } log
            ? await WaitForStartedRunAsync(log)
            : await RunScriptAsync();
        output.WriteLine(text);

        Assert.True(exitCode == 0, text);
        Assert.Contains("image-smoke: no symbols or XML docs in the publish", text, StringComparison.Ordinal);
        Assert.Contains("image-smoke: the image's user is 65532:65532", text, StringComparison.Ordinal);
        Assert.Contains("image-smoke: the container runs as 65532", text, StringComparison.Ordinal);
        Assert.Contains("image-smoke: admission answered with", text, StringComparison.Ordinal);
        Assert.Contains("image-smoke: configinjector version ", text, StringComparison.Ordinal);
        Assert.Contains("image-smoke: OCI labels: ", text, StringComparison.Ordinal);
        Assert.Contains("image-smoke: SBOM /app/configinjector.cdx.json: CycloneDX", text, StringComparison.Ordinal);
        Assert.Matches(@"image size: \d+ MiB", text);
    }

    private static async Task<(int ExitCode, string Text)> RunScriptAsync()
    {
        var start = new ProcessStartInfo("bash", [RepoPaths.Combine(".ci", "image-smoke.sh")]) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepoPaths.Root };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(8));
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>The run test.sh started: its log ends with <c>image-smoke-exit: N</c> once the script has finished.</summary>
    private static async Task<(int ExitCode, string Text)> WaitForStartedRunAsync(string log)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var text = File.Exists(log) ? await File.ReadAllTextAsync(log) : "";
            var exit = System.Text.RegularExpressions.Regex.Match(text, @"^image-smoke-exit: (\d+)$", System.Text.RegularExpressions.RegexOptions.Multiline);
            if (exit.Success)
                return (int.Parse(exit.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), text);
            if (waited.Elapsed > TimeSpan.FromMinutes(12))
                return (-1, $"the image smoke run that test.sh started has not finished after 12 minutes; its log so far:\n{text}");
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }
}
