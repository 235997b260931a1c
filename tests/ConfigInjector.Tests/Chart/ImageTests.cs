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
        var start = new ProcessStartInfo("bash", [RepoPaths.Combine(".ci", "image-smoke.sh")]) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepoPaths.Root };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(8));
        var text = await stdout + await stderr;
        output.WriteLine(text);

        Assert.True(process.ExitCode == 0, text);
        Assert.Contains("image-smoke: no symbols or XML docs in the publish", text, StringComparison.Ordinal);
        Assert.Contains("image-smoke: the image's user is 65532:65532", text, StringComparison.Ordinal);
        Assert.Contains("image-smoke: the container runs as 65532", text, StringComparison.Ordinal);
        Assert.Contains("image-smoke: admission answered with", text, StringComparison.Ordinal);
        Assert.Contains("image-smoke: configinjector version ", text, StringComparison.Ordinal);
        Assert.Contains("image-smoke: OCI labels: ", text, StringComparison.Ordinal);
        Assert.Contains("image-smoke: SBOM /app/configinjector.cdx.json: CycloneDX", text, StringComparison.Ordinal);
        Assert.Matches(@"image size: \d+ MiB", text);
    }
}
