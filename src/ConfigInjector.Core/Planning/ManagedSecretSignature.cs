using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using k8s.Models;

namespace ConfigInjector.Core.Planning;

/// <summary>The key managed Secrets are signed with, and the keys still accepted while a new one rolls out.</summary>
public sealed record SigningKeys(byte[] Current, IReadOnlyList<byte[]> Previous)
{
    public static SigningKeys Single(byte[] key) => new(key, []);
}

/// <summary>
/// Whether a signature verifies, and how: with the current key, with the previous one (a key rotation), or in an
/// older format (the first release's: refs and service account only, no owners annotation; or the second's, which did
/// not cover versions). The last two are accepted and the Secret is signed again in the current format with the
/// current key. Only <see cref="Current"/> and <see cref="Previous"/> vouch for the versions a Secret records
/// (<see cref="ManagedSecretSignature.CoversVersions"/>).
/// </summary>
public enum SignatureCheck { Invalid, Current, Previous, Legacy }

/// <summary>
/// Proof that ConfigInjector wrote a managed Secret. Anyone who may edit Secrets in a namespace could otherwise
/// label one and steer the sync worker: name any ref for it to fill in, make it re-read a vault every second, point
/// its restarts at another workload, or get an unrelated Secret adopted or deleted. So the HMAC covers everything
/// the worker decides on: namespace, name, service account, rotation mode and interval, lifecycle, the owners it gave
/// the Secret (live owner references must be among them), the key → ref map and the version each key holds (the cache
/// invalidation of every replica and the blast-radius report act on versions). Values are not signed: they are what
/// the backend said, and the worker compares them with the backend on every pass.
/// </summary>
public static class ManagedSecretSignature
{
    public static string Sign(byte[] key, V1Secret secret) =>
        Canonical(secret, ManagedSecretFactory.ReadSources(secret)) is { } canonical ? Convert.ToBase64String(HMACSHA256.HashData(key, canonical)) : "";

    /// <summary>Signs the Secret in place with <paramref name="key"/>.</summary>
    public static void Apply(byte[] key, V1Secret secret)
    {
        secret.Metadata.Annotations ??= new Dictionary<string, string>();
        secret.Metadata.Annotations[ManagedSecretFactory.SignatureAnnotation] = Sign(key, secret);
    }

    /// <param name="sources">The Secret's sources already parsed (a caller checking thousands of Secrets parses each once).</param>
    public static SignatureCheck Verify(SigningKeys keys, V1Secret secret, IReadOnlyDictionary<string, KeySource>? sources = null)
    {
        sources ??= ManagedSecretFactory.ReadSources(secret);
        if (secret.Metadata?.Annotations?.TryGetValue(ManagedSecretFactory.SignatureAnnotation, out var signature) != true || Canonical(secret, sources) is not { } canonical)
            return SignatureCheck.Invalid;
        // The first release's form covered no composed keys: one on such a Secret was added by someone else, and
        // accepting it would get it signed in the current form on the next write.
        if (!secret.Metadata.Annotations.ContainsKey(ManagedSecretFactory.OwnersAnnotation))
            return secret.Metadata.Annotations.ContainsKey(Templates.ComposedSources.Annotation) ? SignatureCheck.Invalid : Matches(keys, LegacyCanonical(secret, sources), signature!) is not SignatureCheck.Invalid ? SignatureCheck.Legacy : SignatureCheck.Invalid;
        // Live owners must be among the signed ones: fewer is the garbage collector's doing, one more is not ours.
        if (ManagedSecretFactory.SignedOwners(secret) is not { } signedOwners || !(secret.Metadata.OwnerReferences ?? []).All(o => o is not null && o.Uid is not null &&
                signedOwners.TryGetValue(o.Uid, out var signed) && signed == (o.ApiVersion, o.Kind, o.Name)))
            return SignatureCheck.Invalid;
        var check = Matches(keys, canonical, signature!);
        // The second release's form signed no versions: accepted once, like the first's, but its versions vouch for nothing.
        return check != SignatureCheck.Invalid ? check
            : Matches(keys, Canonical(secret, sources, withVersions: false), signature!) is not SignatureCheck.Invalid ? SignatureCheck.Legacy : SignatureCheck.Invalid;
    }

    /// <summary>Whether the versions the Secret records were signed (they may steer caches and reports); older formats' were not.</summary>
    public static bool CoversVersions(SignatureCheck check) => check is SignatureCheck.Current or SignatureCheck.Previous;

    private static SignatureCheck Matches(SigningKeys keys, byte[]? canonical, string signature)
    {
        Span<byte> given = stackalloc byte[32];
        if (canonical is null || !Convert.TryFromBase64String(signature, given, out var written) || written != 32)
            return SignatureCheck.Invalid;
        if (CryptographicOperations.FixedTimeEquals(given, HMACSHA256.HashData(keys.Current, canonical)))
            return SignatureCheck.Current;
        foreach (var previous in keys.Previous)
        {
            if (CryptographicOperations.FixedTimeEquals(given, HMACSHA256.HashData(previous, canonical)))
                return SignatureCheck.Previous;
        }
        return SignatureCheck.Invalid;
    }

    /// <summary>The first release's signed text: namespace, name, service account and key → ref.</summary>
    private static byte[]? LegacyCanonical(V1Secret secret, IReadOnlyDictionary<string, KeySource>? sources)
    {
        if (sources is null || ManagedSecretFactory.ServiceAccount(secret) is not { } serviceAccount)
            return null;
        return Encoding.UTF8.GetBytes(string.Join("\n",
            new[] { "v1", secret.Metadata.NamespaceProperty, secret.Metadata.Name, serviceAccount }.Concat(sources.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key}={s.Value.Ref}"))));
    }

    /// <summary>
    /// Brings a Secret accepted in an older form up to the current one, signed with <paramref name="key"/>. A legacy
    /// Secret's live owners become its signed owners: its first format did not cover them.
    /// </summary>
    public static void Upgrade(byte[] key, V1Secret secret)
    {
        if (secret.Metadata.Annotations?.ContainsKey(ManagedSecretFactory.OwnersAnnotation) != true)
            ManagedSecretFactory.SetOwners(secret, [.. (secret.Metadata.OwnerReferences ?? []).Where(o => o is not null)]);
        var annotations = secret.Metadata.Annotations ??= new Dictionary<string, string>();
        if (annotations.Remove(ManagedSecretFactory.LegacyOnChangeAnnotation, out var legacy))
            annotations.TryAdd(ManagedSecretFactory.OnChangeAnnotation, legacy);
        Apply(key, secret);
    }

    /// <summary>The signed fields, one per line, length-prefixed where a value could hold a newline; null without readable sources.</summary>
    private static byte[]? Canonical(V1Secret secret, IReadOnlyDictionary<string, KeySource>? sources, bool withVersions = true)
    {
        var metadata = secret.Metadata;
        if (metadata is null || sources is null)
            return null;
        var annotations = metadata.Annotations?.AsReadOnly() ?? new Dictionary<string, string>().AsReadOnly();
        var lines = new List<string>
        {
            withVersions ? "v3" : "v2",
            Field(metadata.NamespaceProperty),
            Field(metadata.Name),
            Field(annotations.GetValueOrDefault(ManagedSecretFactory.ServiceAccountAnnotation)),
            Field(annotations.GetValueOrDefault(ManagedSecretFactory.OnChangeAnnotation)),
            Field(annotations.GetValueOrDefault(ManagedSecretFactory.IntervalAnnotation)),
            Field(annotations.GetValueOrDefault(ManagedSecretFactory.LifecycleAnnotation)),
            Field(annotations.GetValueOrDefault(ManagedSecretFactory.OwnersAnnotation)),
        };
        lines.AddRange(sources.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => "source " + Field(s.Key) + Field(s.Value.Ref) + (withVersions ? Field(s.Value.Version) : "")));
        // Composed keys (templates, formatted files) sign what they are made of and the versions of each ref, like
        // plain sources. A Secret without any has the same canonical form as before they existed.
        if (annotations.TryGetValue(Templates.ComposedSources.Annotation, out var composedJson))
        {
            if (Templates.ComposedSources.Parse(composedJson) is not { } composed)
                return null;
            lines.Add("composed");
            lines.AddRange(composed.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c =>
                "composed " + Field(c.Key) + Field(c.Value.Template) + Field(c.Value.From) + Field(c.Value.Format?.ToString())
                + (withVersions ? string.Concat(c.Value.Versions.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => Field(v.Key) + Field(v.Value))) : "")));
        }
        return Encoding.UTF8.GetBytes(string.Join("\n", lines));
    }

    private static string Field(string? value) =>
        value is null ? "-;" : value.Length.ToString(CultureInfo.InvariantCulture) + ":" + value + ";";
}
