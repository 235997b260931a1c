using ConfigInjector.Core.References;

namespace ConfigInjector.Core.Secrets;

/// <summary>The keys and values stored at one path, at one version. Single-valued secrets hold one key.</summary>
public sealed record SecretDocument(string Version, IReadOnlyDictionary<string, string> Data)
{
    /// <summary>The key a single-valued backend (e.g. Key Vault) stores its one value under.</summary>
    public const string SingleValueKey = "value";

    public override string ToString() => $"SecretDocument(version {Version}, {Data.Count} keys)";
}

public enum ReadStatus { Found, NotFound, Failed }

/// <summary>
/// The outcome of reading one location. On failure, <see cref="Document"/> may carry the last-known-good
/// document (with its <see cref="StaleAge"/>) for policies that allow stale values.
/// </summary>
public sealed record SecretRead(SecretLocation Location, ReadStatus Status, SecretDocument? Document, string? Reason, TimeSpan? StaleAge = null)
{
    public static SecretRead Found(SecretLocation location, SecretDocument document) => new(location, ReadStatus.Found, document, null);

    public static SecretRead NotFound(SecretLocation location, string reason) => new(location, ReadStatus.NotFound, null, reason);

    public static SecretRead Failed(SecretLocation location, string reason, SecretDocument? lastKnownGood = null, TimeSpan? age = null) =>
        new(location, ReadStatus.Failed, lastKnownGood, reason, age);
}
