using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;

namespace ConfigInjector.Core.Report;

/// <summary>
/// What <c>report --ref</c> looks for: a ref (<c>vault-prod:secret/shop/db#password</c>), a path with every key of it
/// (<c>vault-prod:secret/shop/db</c>), a prefix (<c>vault-prod:secret/shop/</c>) or a glob as policies write paths
/// and keys (<c>vault-prod:secret/*/db#pass*</c>, <c>kv-prod:**</c>). A version in the pattern is ignored: every
/// version of a matching ref is reported.
/// </summary>
public sealed record RefPattern(string Backend, string PathGlob, string? KeyGlob)
{
    /// <summary>Every ref of every backend: what the stale-version gauge counts.</summary>
    public static readonly RefPattern Any = new("*", "**", null);

    public static Result<RefPattern> Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return Result.Fail<RefPattern>($"the ref pattern is empty; expected {ReferenceParser.Grammar}, a path prefix ending in '/', or a glob");
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
            return Result.Fail<RefPattern>($"\"{Text.Quote.Short(text)}\": no ':' after the backend name; expected {ReferenceParser.Grammar}");
        var backend = text[..colon];
        var rest = text[(colon + 1)..];
        var at = rest.LastIndexOf('@');
        if (at >= 0 && rest.IndexOf('#', StringComparison.Ordinal) < at)
            rest = rest[..at];
        var hash = rest.IndexOf('#', StringComparison.Ordinal);
        var path = hash >= 0 ? rest[..hash] : rest;
        var key = hash >= 0 ? rest[(hash + 1)..] : null;
        if (path.EndsWith('/'))
            path += "**";
        if (path.Length == 0 || path.StartsWith('/') || path.Split('/').Any(s => s.Length == 0 || s is "." or ".."))
            return Result.Fail<RefPattern>($"\"{Text.Quote.Short(text)}\": the path has an empty, '.' or '..' segment");
        if (key is { Length: 0 })
            return Result.Fail<RefPattern>($"\"{Text.Quote.Short(text)}\": the key after '#' is empty");
        return Result.Ok(new RefPattern(backend, path, key));
    }

    /// <summary>
    /// Whether a ref a pod used matches. A ref without key (a whole path: <c>file-from.</c>, a one-key path) matches
    /// any key pattern: the pod read every key of it.
    /// </summary>
    public bool Matches(SecretReference reference) =>
        (Backend == "*" || reference.Backend == Backend) && Glob.MatchPath(PathGlob, reference.Path)
        && (KeyGlob is null || reference.Key is null || Glob.MatchName(KeyGlob, reference.Key));

    public override string ToString() => $"{Backend}:{PathGlob}{(KeyGlob is null ? "" : "#" + KeyGlob)}";
}
