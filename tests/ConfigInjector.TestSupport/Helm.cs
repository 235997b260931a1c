using System.Diagnostics;
using System.Text.Json.Nodes;
using ConfigInjector.Manifests;

namespace ConfigInjector.TestSupport;

/// <summary>
/// The real Helm 3 in the repository's git-ignored <c>.tools/</c>, which <c>./test.sh</c> fetches (from the npm package
/// that ships it), run on <c>charts/config-injector</c>. A missing Helm fails the test with the reason; nothing is skipped.
/// </summary>
public static class Helm
{
    public const string Namespace = "config-injector";

    public static string Chart => RepoPaths.Combine("charts", "config-injector");

    public static string Tool
    {
        get
        {
            var tool = RepoPaths.Combine(".tools", "helm", "helm");
            return File.Exists(tool) ? tool : throw new InvalidOperationException($"Helm not found at {tool}: run the tests with ./test.sh, which fetches it");
        }
    }

    public static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo(Tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>The rendered objects of the chart with the given <c>--set</c>/<c>--set-json</c> arguments.</summary>
    public static Task<IReadOnlyList<JsonObject>> TemplateAsync(params string[] values) => TemplateReleaseAsync("ci", values);

    /// <summary>As <see cref="TemplateAsync"/>, installed under another release name.</summary>
    public static async Task<IReadOnlyList<JsonObject>> TemplateReleaseAsync(string release, params string[] values)
    {
        var (code, output, error) = await RunAsync(["template", release, Chart, "--namespace", Namespace, .. values]);
        if (code != 0)
            throw new InvalidOperationException($"helm template failed: {error}");
        return [.. YamlJson.Parse(output).OfType<JsonObject>()];
    }

    public static JsonObject Single(this IReadOnlyList<JsonObject> objects, string kind) =>
        objects.Where(o => o["kind"]?.GetValue<string>() == kind).Single();

    public static IEnumerable<JsonObject> OfKind(this IReadOnlyList<JsonObject> objects, string kind) =>
        objects.Where(o => o["kind"]?.GetValue<string>() == kind);
}
