using System.Security.Cryptography;
using System.Text;

namespace ConfigInjector.Core.Rotation;

/// <summary>
/// What a managed Secret holds now, as a rotation compares fresh reads with it: the values themselves, or only a
/// digest of each (what the leader keeps of thousands of Secrets, so that its memory does not hold every value of
/// the cluster; it reads a Secret whole only when a digest says something changed).
/// </summary>
public abstract class HeldValues
{
    /// <summary>Whether <paramref name="key"/> holds exactly <paramref name="value"/>.</summary>
    public abstract bool Holds(string key, string value);

    /// <summary>The values themselves; empty when only digests are kept.</summary>
    public abstract IReadOnlyDictionary<string, string> Known { get; }

    public static HeldValues Of(IReadOnlyDictionary<string, string> values) => new Whole(values);

    /// <param name="share">Gives the key string to keep (one instance of each key name across thousands of Secrets).</param>
    public static HeldValues Digested(IEnumerable<KeyValuePair<string, string>> values, Func<string, string> share) =>
        new Digests([.. values.Select(v => new KeyDigest(share(v.Key), Digest(v.Value)))]);

    private static readonly IReadOnlyDictionary<string, string> None = new Dictionary<string, string>();

    // SHA-256 cut to 128 bits: two different values never compare equal in practice, whoever chose them.
    private static UInt128 Digest(string value)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(value), hash);
        return new UInt128(BitConverter.ToUInt64(hash[..8]), BitConverter.ToUInt64(hash[8..16]));
    }

    private sealed class Whole(IReadOnlyDictionary<string, string> values) : HeldValues
    {
        public override bool Holds(string key, string value) => values.TryGetValue(key, out var held) && held == value;

        public override IReadOnlyDictionary<string, string> Known => values;
    }

    private readonly record struct KeyDigest(string Key, UInt128 Digest);

    private sealed class Digests(KeyDigest[] digests) : HeldValues
    {
        public override bool Holds(string key, string value)
        {
            foreach (var held in digests)
            {
                if (held.Key == key)
                    return held.Digest == Digest(value);
            }
            return false;
        }

        public override IReadOnlyDictionary<string, string> Known => None;
    }
}
