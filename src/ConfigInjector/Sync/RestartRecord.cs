using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ConfigInjector.Core.Planning;
using k8s.Models;

namespace ConfigInjector.Sync;

/// <summary>
/// The record, on a managed Secret, that a rotation made its workloads' restart due: since when, and an HMAC under the
/// signing key over namespace, name and that time, so nobody who may only edit Secrets can make the worker restart
/// anything. It is written in the same update as the rotated values, so it outlives the leader that wrote it, and is
/// removed once every workload was restarted or found not to need it.
/// </summary>
internal static class RestartRecord
{
    public const string Annotation = "configinjector.io/restart-due";

    // Whole seconds, as kubectl stamps restartedAt: a restart for this change never looks older than the change.
    private const string TimeFormat = "yyyy-MM-ddTHH:mm:ssZ";

    public static void Set(V1Secret secret, DateTimeOffset since, byte[] key)
    {
        var stamp = since.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);
        secret.Metadata.Annotations[Annotation] = $"{stamp} {Mac(key, secret, stamp)}";
    }

    /// <summary>The time the record names, not yet verified (null when there is none or it is malformed).</summary>
    public static DateTimeOffset? Claimed(V1Secret secret) => Parse(secret) is { } record ? record.Since : null;

    /// <summary>Since when a restart is due, or null when there is no record or its MAC does not verify under any accepted key.</summary>
    public static DateTimeOffset? Read(SigningKeys keys, V1Secret secret)
    {
        if (Parse(secret) is not { } record)
            return null;
        var given = Encoding.ASCII.GetBytes(record.Mac);
        return keys.Previous.Prepend(keys.Current).Any(k => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Mac(k, secret, record.Stamp)), given)) ? record.Since : null;
    }

    private static (string Stamp, DateTimeOffset Since, string Mac)? Parse(V1Secret secret) =>
        secret.Metadata?.Annotations?.TryGetValue(Annotation, out var value) == true && value.Split(' ') is [var stamp, var mac]
            && DateTimeOffset.TryParseExact(stamp, TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var since)
            ? (stamp, since, mac)
            : null;

    public static void Clear(V1Secret secret) => secret.Metadata.Annotations?.Remove(Annotation);

    private static string Mac(byte[] key, V1Secret secret, string stamp) =>
        Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"restart-due\n{secret.Metadata.NamespaceProperty}\n{secret.Metadata.Name}\n{stamp}")));
}
