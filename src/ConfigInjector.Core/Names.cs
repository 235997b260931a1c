using System.Text.RegularExpressions;

namespace ConfigInjector.Core;

/// <summary>The name rules shared by annotations, references and configuration.</summary>
public static partial class Names
{
    public static string? CheckBackendName(string name) =>
        BackendName().IsMatch(name)
            ? null
            : $"the backend name '{name}' must be lowercase letters, digits and '-' (like a DNS label)";

    /// <summary>An environment variable name as a shell and most runtimes accept it.</summary>
    public static bool IsEnvName(string name) => EnvName().IsMatch(name);

    /// <summary>A file name inside the files directory: one path segment, valid as a Secret key too.</summary>
    public static bool IsFileName(string name) =>
        SecretKey().IsMatch(name) && name is not "." and not ".." && !name.StartsWith("..", StringComparison.Ordinal);

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
    private static partial Regex BackendName();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex EnvName();

    [GeneratedRegex("^[-._a-zA-Z0-9]{1,253}$")]
    private static partial Regex SecretKey();
}
