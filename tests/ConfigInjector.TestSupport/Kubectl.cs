using System.Diagnostics;

namespace ConfigInjector.TestSupport;

/// <summary>
/// The real kubectl in the repository's git-ignored <c>.tools/</c> (fetched by <c>./test.sh</c> with Helm), with the
/// CLI installed as its plugin: a folder holding <c>kubectl-configinjector</c>, a link to the built binary, is the
/// front of its PATH, as a user's <c>~/.local/bin</c> would be.
/// </summary>
public static class Kubectl
{
    public static string Tool
    {
        get
        {
            var tool = RepoPaths.Combine(".tools", "kubectl", "kubectl");
            return File.Exists(tool) ? tool : throw new InvalidOperationException($"kubectl not found at {tool}: run the tests with ./test.sh, which fetches it");
        }
    }

    /// <param name="environment">Extra variables, e.g. KUBECONFIG; the plugin inherits kubectl's environment.</param>
    public static async Task<(int Code, string Out, string Err)> RunWithPluginAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var plugins = ScratchDirectory.Create();
        try
        {
            File.CreateSymbolicLink(Path.Combine(plugins, "kubectl-configinjector"), Path.Combine(AppContext.BaseDirectory, "configinjector"));
            var start = new ProcessStartInfo(Tool, args) { WorkingDirectory = plugins };
            start.Environment["PATH"] = $"{plugins}:/usr/bin:/bin";
            // The link is the framework-dependent build: its apphost finds the runtime the tests run on.
            start.Environment["DOTNET_ROOT"] = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "..", "..", ".."));
            start.Environment["HOME"] = plugins;
            start.Environment.Remove("KUBECONFIG");
            foreach (var (name, value) in environment)
                start.Environment[name] = value;
            return await ProcessRun.RunAsync(start, TimeSpan.FromMinutes(2));
        }
        finally
        {
            Directory.Delete(plugins, recursive: true);
        }
    }
}
