namespace ConfigInjector.Core.References;

/// <summary>
/// Parses the reference grammar <c>&lt;backend&gt;:&lt;path&gt;[#&lt;key&gt;][@&lt;version&gt;]</c>.
/// Errors are one line and say what is wrong, so callers can prefix them with the annotation they came from.
/// </summary>
public static class ReferenceParser
{
    public const string Grammar = "<backend>:<path>[#<key>][@<version>]";

    /// <summary>Longer refs are refused before any other work: no vault path a policy names comes near it.</summary>
    public const int MaxLength = 1024;

    public static Result<SecretReference> Parse(string? text, bool keyAllowed = true)
    {
        if (string.IsNullOrWhiteSpace(text))
            return Result.Fail<SecretReference>($"the reference is empty; expected {Grammar}");
        if (text.Length > MaxLength)
            return Result.Fail<SecretReference>($"the reference is {text.Length} characters long; at most {MaxLength} are allowed");
        if (text.Any(char.IsWhiteSpace))
            return Result.Fail<SecretReference>("the reference contains white space");

        var colon = text.IndexOf(':');
        if (colon < 0)
            return Result.Fail<SecretReference>($"no ':' after the backend name; expected {Grammar}");
        var backend = text[..colon];
        var rest = text[(colon + 1)..];

        var backendError = Names.CheckBackendName(backend);
        if (backendError is not null)
            return Result.Fail<SecretReference>(backendError);

        string? version = null;
        var at = rest.IndexOf('@');
        if (at >= 0)
        {
            version = rest[(at + 1)..];
            rest = rest[..at];
            if (version.Contains('#'))
                return Result.Fail<SecretReference>("'#<key>' must come before '@<version>'");
            if (version.Length == 0)
                return Result.Fail<SecretReference>("the version after '@' is empty");
            if (!version.All(IsTokenChar))
                return Result.Fail<SecretReference>($"the version '{version}' may only hold letters, digits, '.', '_' and '-'");
        }

        string? key = null;
        var hash = rest.IndexOf('#');
        if (hash >= 0)
        {
            key = rest[(hash + 1)..];
            rest = rest[..hash];
            if (!keyAllowed)
                return Result.Fail<SecretReference>("this annotation takes a path without '#<key>': every key of the path is used");
            if (key.Length == 0)
                return Result.Fail<SecretReference>("the key after '#' is empty");
            if (!key.All(IsTokenChar))
                return Result.Fail<SecretReference>($"the key '{key}' may only hold letters, digits, '.', '_' and '-'");
        }

        var pathError = CheckPath(rest);
        if (pathError is not null)
            return Result.Fail<SecretReference>(pathError);

        return Result.Ok(new SecretReference(backend, rest, key, version));
    }

    private static string? CheckPath(string path)
    {
        if (path.Length == 0)
            return $"the path after ':' is empty; expected {Grammar}";
        if (path.StartsWith('/') || path.EndsWith('/'))
            return $"the path '{path}' must not start or end with '/'";
        foreach (var segment in path.Split('/'))
        {
            if (segment.Length == 0)
                return $"the path '{path}' has an empty segment ('//')";
            if (segment is "." or "..")
                return $"the path '{path}' must not contain '.' or '..' segments";
            if (!segment.All(IsTokenChar))
                return $"the path '{path}' may only hold letters, digits, '.', '_', '-' and '/'";
        }
        return null;
    }

    private static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-';
}
