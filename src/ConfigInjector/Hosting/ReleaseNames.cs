using ConfigInjector.Configuration;

namespace ConfigInjector.Hosting;

/// <summary>
/// The names of what one install keeps in its own namespace, derived from its release (<c>serve --release</c>, the
/// chart's fullname), so two installs in one cluster never share a Lease or a signing key. The default keeps the
/// names installs had before the setting existed.
/// </summary>
internal sealed record ReleaseNames
{
    public const string DefaultRelease = "config-injector";

    public static readonly ReleaseNames Default = new(DefaultRelease);

    private ReleaseNames(string release) => Release = release;

    public string Release { get; }

    /// <summary>The sync worker's leader-election Lease.</summary>
    public string Lease => $"{Release}-sync";

    /// <summary>The Secret holding the key that signs managed Secrets.</summary>
    public string SigningKey => $"{Release}-signing-key";

    /// <summary>A release name as Helm allows it (a DNS label: lowercase letters, digits and '-', at most 63).</summary>
    public static ReleaseNames For(string release) =>
        release.Length is > 0 and <= 63 && release.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')
            && char.IsAsciiLetterOrDigit(release[0]) && char.IsAsciiLetterOrDigit(release[^1])
            ? new ReleaseNames(release)
            : throw new ConfigException($"--release \"{release}\": not a release name (lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)");
}
