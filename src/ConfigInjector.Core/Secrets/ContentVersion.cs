using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ConfigInjector.Core.Secrets;

/// <summary>
/// The version of a document whose backend keeps none (Vault KV v1, the file backend): a keyed HMAC of its keys and
/// values. Every process of one install holds the same key, so replicas, the sync worker's leader and the CLI agree
/// on it; without the key nobody can test a guessed value against a version (it is not a plain hash of the value).
/// </summary>
public static class ContentVersion
{
    /// <summary>Marks a content version, so it never looks like a backend's own version number.</summary>
    public const string Prefix = "h";

    private static readonly byte[] Purpose = Encoding.UTF8.GetBytes("configinjector.io/content-version/v1");

    /// <summary>
    /// The HMAC key for versions, derived with HKDF from the install's secret seed: the seed itself is never used
    /// directly, so the same bytes never serve two purposes.
    /// </summary>
    public static byte[] DeriveKey(byte[] seed) => HKDF.DeriveKey(HashAlgorithmName.SHA256, seed, 32, salt: [], info: Purpose);

    /// <summary>"h" and 16 hex digits (64 bits of the HMAC): enough to tell versions apart, and reveals nothing without the key.</summary>
    public static string Of(byte[] key, IReadOnlyDictionary<string, string> document)
    {
        var canonical = new StringBuilder();
        foreach (var (name, value) in document.OrderBy(d => d.Key, StringComparer.Ordinal))
            canonical.Append(CultureInfo.InvariantCulture, $"{name.Length}:{name}{value.Length}:{value}\n");
        return Prefix + Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(canonical.ToString())))[..16];
    }
}
