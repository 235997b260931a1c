using ConfigInjector.Core.References;

namespace ConfigInjector.Core.Secrets;

/// <summary>The keys and values stored at one path, at one version. Single-valued secrets hold one key.</summary>
public sealed record SecretDocument(string Version, IReadOnlyDictionary<string, string> Data)
{
    /// <summary>The key a single-valued backend (e.g. Key Vault) stores its one value under.</summary>
    public const string SingleValueKey = "value";

    public override string ToString() => $"SecretDocument(version {Version}, {Data.Count} keys)";
}

/// <summary>
/// <see cref="Refused"/>: the vault said no to the identity that read (a pod's service account under
/// <c>identity: pod</c>). Like <see cref="NotFound"/> it is the vault's answer, not an outage: no
/// <c>onBackendError</c> mode admits it and no last-known-good value stands in.
/// </summary>
public enum ReadStatus { Found, NotFound, Failed, Refused }

/// <summary>
/// The outcome of reading one location. On failure, <see cref="Document"/> may carry the last-known-good
/// document (with its <see cref="StaleAge"/>) for policies that allow stale values.
/// </summary>
public sealed record SecretRead(SecretLocation Location, ReadStatus Status, SecretDocument? Document, string? Reason, TimeSpan? StaleAge = null)
{
    public static SecretRead Found(SecretLocation location, SecretDocument document) => new(location, ReadStatus.Found, document, null);

    public static SecretRead NotFound(SecretLocation location, string reason) => new(location, ReadStatus.NotFound, null, reason);

    /// <param name="reason">Names who was refused and why (service account, role): it is shown to the pod's owner as it is.</param>
    public static SecretRead Refused(SecretLocation location, string reason) => new(location, ReadStatus.Refused, null, reason);

    public static SecretRead Failed(SecretLocation location, string reason, SecretDocument? lastKnownGood = null, TimeSpan? age = null) =>
        new(location, ReadStatus.Failed, lastKnownGood, reason, age);
}
