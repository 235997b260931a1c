using ConfigInjector.Configuration;

namespace ConfigInjector.Policies;

/// <summary>The <c>--policies</c> folder: the given one must exist; the default may be absent (then nothing is allowed).</summary>
internal static class PolicyFolder
{
    /// <summary>Where policies are read from out of a cluster when <c>--policies</c> is not given.</summary>
    public const string Default = "examples/policies";

    public static string Resolve(string? given, string? baseDirectory = null)
    {
        var folder = Path.GetFullPath(given ?? Default, baseDirectory ?? Directory.GetCurrentDirectory());
        if (given is not null && !Directory.Exists(folder))
            throw new ConfigException($"--policies: {given} is not a folder");
        return folder;
    }
}
