using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using k8s.Models;

namespace ConfigInjector.Core.Planning;

/// <summary>
/// Deterministic managed Secret names: pods of one ReplicaSet asking for the same refs share one Secret,
/// and admitting the same pod twice names the same Secret.
/// </summary>
public static class ManagedSecretNaming
{
    private const string Prefix = "configinjector-";
    private const int MaxBaseLength = 200;

    public static string NameFor(V1Pod pod, string podNamespace, IEnumerable<KeyValuePair<string, string>> keysToRefs)
    {
        var baseName = Controller(pod)?.Name ?? pod.Metadata?.Name ?? pod.Metadata?.GenerateName?.TrimEnd('-') ?? "pod";
        return $"{Prefix}{Sanitize(baseName)}-{Hash(podNamespace, keysToRefs.OrderBy(k => k.Key, StringComparer.Ordinal))}";
    }

    private static V1OwnerReference? Controller(V1Pod pod)
    {
        var owners = pod.Metadata?.OwnerReferences;
        for (var i = 0; owners is not null && i < owners.Count; i++)
        {
            if (owners[i]?.Controller == true)
                return owners[i];
        }
        return null;
    }

    /// <summary>
    /// The first 10 hex digits of SHA-256 over "namespace\nkey=ref\nkey=ref…", encoded piece by piece into one pooled
    /// buffer (each piece meets an ASCII separator, so its UTF-8 is the same as the joined text's).
    /// </summary>
    private static string Hash(string podNamespace, IOrderedEnumerable<KeyValuePair<string, string>> parts)
    {
        var sorted = parts.ToArray();
        var length = Encoding.UTF8.GetByteCount(podNamespace) + 1;
        foreach (var (key, value) in sorted)
            length += Encoding.UTF8.GetByteCount(key) + Encoding.UTF8.GetByteCount(value) + 2;
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var written = Encoding.UTF8.GetBytes(podNamespace, buffer);
            buffer[written++] = (byte)'\n';
            for (var i = 0; i < sorted.Length; i++)
            {
                if (i > 0)
                    buffer[written++] = (byte)'\n';
                written += Encoding.UTF8.GetBytes(sorted[i].Key, buffer.AsSpan(written));
                buffer[written++] = (byte)'=';
                written += Encoding.UTF8.GetBytes(sorted[i].Value, buffer.AsSpan(written));
            }
            Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(buffer.AsSpan(0, written), digest);
            return Convert.ToHexStringLower(digest[..5]);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static string Sanitize(string name)
    {
        if (IsClean(name))
            return name;
        var chars = name.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' ? c : '-').ToArray();
        var clean = new string(chars).Trim('-', '.');
        if (clean.Length > MaxBaseLength)
            clean = clean[..MaxBaseLength].TrimEnd('-', '.');
        return clean.Length == 0 ? "pod" : clean;
    }

    /// <summary>A name already made of what a Secret name may hold (most controllers' names are), kept as it is.</summary>
    private static bool IsClean(string name)
    {
        if (name.Length is 0 or > MaxBaseLength || name[0] is '-' or '.' || name[^1] is '-' or '.')
            return false;
        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '.'))
                return false;
        }
        return true;
    }
}
