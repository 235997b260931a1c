using System.Reflection;
using System.Runtime;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ConfigInjector.Cli;

/// <summary>
/// What this binary is: the version and commit stamped at build (InformationalVersion is "version+SourceRevisionId"),
/// the build configuration recorded as assembly metadata, and how the runtime runs it.
/// </summary>
internal sealed record BuildInfo(string Version, string Commit, string Configuration, string Compilation, string Runtime, string Platform, string Globalization, string GarbageCollector)
{
    public const string UnknownCommit = "unknown";

    public static BuildInfo Current { get; } = Read(typeof(BuildInfo).Assembly);

    /// <summary>Name and value of each field, in the order <c>configinjector version</c> prints them.</summary>
    public IReadOnlyList<(string Name, string Value)> Fields =>
    [
        ("version", Version), ("commit", Commit), ("configuration", Configuration), ("compilation", Compilation), ("runtime", Runtime),
        ("platform", Platform), ("globalization", Globalization), ("gc", GarbageCollector),
    ];

    private static BuildInfo Read(Assembly assembly)
    {
        var informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        var plus = informational.IndexOf('+', StringComparison.Ordinal);
        var configuration = assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "Configuration")?.Value
            ?? assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "unknown";
        return new BuildInfo(
            plus < 0 ? informational : informational[..plus],
            plus < 0 || plus == informational.Length - 1 ? UnknownCommit : informational[(plus + 1)..],
            configuration,
            RuntimeFeature.IsDynamicCodeSupported ? "JIT" : "Native AOT",
            RuntimeInformation.FrameworkDescription,
            RuntimeInformation.RuntimeIdentifier,
            AppContext.TryGetSwitch("System.Globalization.Invariant", out var invariant) && invariant ? "invariant" : "ICU",
            GCSettings.IsServerGC ? "server" : "workstation");
    }
}
