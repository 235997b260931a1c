using ConfigInjector.Configuration;

namespace ConfigInjector.Cli;

/// <summary>The <c>--policies</c> folder: the given one must exist; the default may be absent (then nothing is allowed).</summary>
public static class PolicyFolder
{
    public static string Resolve(string? given, string? baseDirectory = null)
    {
        var folder = Path.GetFullPath(given ?? Hosting.ServeSettings.DefaultPolicies, baseDirectory ?? Directory.GetCurrentDirectory());
        if (given is not null && !Directory.Exists(folder))
            throw new ConfigException($"--policies: {given} is not a folder");
        return folder;
    }
}
