using System.Security.Cryptography;
using System.Text;
using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Planning;
using ConfigInjector.Core.Rotation;
using k8s.Models;

namespace ConfigInjector.Sync;

/// <summary>
/// What the leader keeps of a managed Secret it verified with the current signing key: who it is, its labels and
/// annotations (shared with the Secrets that have the same), whether it has owners, and a digest of each value — never
/// the values, nor the signature, the signed owners, the owner references and the refresh request (unique to each
/// Secret, and read again whenever the Secret is acted on). A rotation pass decides from it whether anything changed and reads the Secret whole only then; like a
/// stub, it is never written back (its <see cref="V1Secret.Data"/> is null).
/// </summary>
internal sealed record KeptSecret : V1Secret
{
    private readonly ulong _signedBy;

    private KeptSecret(HeldValues held, ulong signedBy, bool owned)
    {
        Held = held;
        _signedBy = signedBy;
        Owned = owned;
    }

    public HeldValues Held { get; }

    /// <summary>Whether it has owner references (they are not kept: whoever acts on them reads the Secret again).</summary>
    public bool Owned { get; }

    /// <summary>Whether it was verified with <paramref name="key"/>: after a key rotation it is read again and checked with the new keys.</summary>
    public bool VerifiedWith(byte[] key) => Fingerprint(key) == _signedBy;

    /// <param name="verified">A Secret whose signature <see cref="ManagedSecretSignature.Verify"/> found made with <paramref name="key"/>.</param>
    public static KeptSecret From(V1Secret verified, byte[] key, SharedStrings strings, SharedMaps maps)
    {
        var metadata = verified.Metadata;
        var annotations = metadata.Annotations?.Where(a => a.Key is not (ManagedSecretFactory.SignatureAnnotation or ManagedSecretFactory.OwnersAnnotation or AnnotationKeys.Refresh));
        return new KeptSecret(HeldValues.Digested(Strings(verified.Data), k => strings.Share(k)!), Fingerprint(key), metadata.OwnerReferences is { Count: > 0 })
        {
            ApiVersion = strings.Share(verified.ApiVersion),
            Kind = strings.Share(verified.Kind),
            Type = strings.Share(verified.Type),
            Metadata = new V1ObjectMeta
            {
                Name = metadata.Name,
                NamespaceProperty = strings.Share(metadata.NamespaceProperty),
                Uid = metadata.Uid,
                ResourceVersion = metadata.ResourceVersion,
                CreationTimestamp = metadata.CreationTimestamp,
                Labels = maps.Share(metadata.Labels),
                Annotations = maps.Share(annotations),
            },
        };
    }

    private static IEnumerable<KeyValuePair<string, string>> Strings(IDictionary<string, byte[]>? data) =>
        data?.Select(d => KeyValuePair.Create(d.Key, Encoding.UTF8.GetString(d.Value))) ?? [];

    private static ulong Fingerprint(byte[] key) => BitConverter.ToUInt64(SHA256.HashData(key).AsSpan(0, 8));
}
