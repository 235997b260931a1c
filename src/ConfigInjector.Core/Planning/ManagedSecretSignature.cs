using System.Security.Cryptography;
using System.Text;

namespace ConfigInjector.Core.Planning;

/// <summary>
/// Proof that ConfigInjector wrote a managed Secret's sources. Anyone who may edit Secrets in a namespace could
/// otherwise label one and name any ref in its sources for the sync worker to fill in; the worker only trusts a
/// Secret whose namespace, name, service account and key → ref map carry a valid HMAC under the injector's key.
/// Versions and values are not signed: they change with every rotation.
/// </summary>
public static class ManagedSecretSignature
{
    public static string Sign(byte[] key, string @namespace, string name, string serviceAccount, IReadOnlyDictionary<string, KeySource> sources) =>
        Convert.ToBase64String(HMACSHA256.HashData(key, Canonical(@namespace, name, serviceAccount, sources)));

    public static bool Verify(byte[] key, string @namespace, string name, string serviceAccount, IReadOnlyDictionary<string, KeySource> sources, string? signature)
    {
        if (signature is null)
            return false;
        Span<byte> given = stackalloc byte[32];
        return Convert.TryFromBase64String(signature, given, out var written) && written == 32 &&
            CryptographicOperations.FixedTimeEquals(given, HMACSHA256.HashData(key, Canonical(@namespace, name, serviceAccount, sources)));
    }

    private static byte[] Canonical(string @namespace, string name, string serviceAccount, IReadOnlyDictionary<string, KeySource> sources) =>
        Encoding.UTF8.GetBytes(string.Join("\n",
            new[] { "v1", @namespace, name, serviceAccount }.Concat(sources.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key}={s.Value.Ref}"))));
}
