using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ConfigInjector.Core.Planning;
using k8s.Models;

namespace ConfigInjector.ManagedSecrets;

/// <summary>
/// The record, on a managed Secret, that a rotation made its workloads' restart due: since when (the latest change),
/// from when it may start (the first change of the debounce window plus the policy's <c>rotation.debounce</c>), which
/// refs and versions changed, and an HMAC under the signing key over all of it with namespace and name, so nobody who
/// may only edit Secrets can make the worker restart anything. It is written in the same update as the rotated values,
/// so it outlives the leader that wrote it (a new leader waits out the same window), and is removed once every workload
/// was restarted or found not to need it. A change while it is still there joins it: one restart for all of them.
/// </summary>
internal static class RestartRecord
{
    public const string Annotation = "configinjector.io/restart-due";

    // Whole seconds, as kubectl stamps restartedAt: a restart for this change never looks older than the change.
    private const string TimeFormat = "yyyy-MM-ddTHH:mm:ssZ";

    /// <summary>What a verified record says.</summary>
    public sealed record Due(DateTimeOffset Since, DateTimeOffset NotBefore, string Changes);

    /// <summary>
    /// Records a change at <paramref name="now"/> of <paramref name="changes"/> (refs and versions, never values): it
    /// joins the record already on the Secret, if one verifies, else it opens a window of <paramref name="debounce"/>.
    /// </summary>
    public static void Set(V1Secret secret, DateTimeOffset now, TimeSpan debounce, IEnumerable<string> changes, SigningKeys keys)
    {
        var open = ReadDue(keys, secret);
        var notBefore = open?.NotBefore ?? now + debounce;
        var all = (open?.Changes.Split(", ", StringSplitOptions.RemoveEmptyEntries) ?? []).Concat(changes).Distinct(StringComparer.Ordinal);
        var text = Text(now, notBefore, string.Join(", ", all));
        secret.Metadata.Annotations[Annotation] = $"{Mac(keys.Current, secret, text)} {text}";
    }

    /// <summary>What the record says, not yet verified (null when there is none or it is malformed).</summary>
    public static Due? Claimed(V1Secret secret) => Parse(secret)?.Due;

    /// <summary>Since when a restart is due, or null when there is no record or its MAC does not verify under any accepted key.</summary>
    public static DateTimeOffset? Read(SigningKeys keys, V1Secret secret) => ReadDue(keys, secret)?.Since;

    /// <summary>The whole record when it verifies under an accepted key, else null.</summary>
    public static Due? ReadDue(SigningKeys keys, V1Secret secret)
    {
        if (Parse(secret) is not { } record)
            return null;
        var given = Encoding.ASCII.GetBytes(record.Mac);
        return keys.Previous.Prepend(keys.Current).Any(k => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Mac(k, secret, record.Signed)), given)) ? record.Due : null;
    }

    /// <summary>
    /// "MAC since notBefore changes…"; the first release wrote "since MAC" (no window, no changes), still read so an
    /// upgrade mid-restart finishes it.
    /// </summary>
    private static (string Signed, Due Due, string Mac)? Parse(V1Secret secret)
    {
        if (secret.Metadata?.Annotations?.TryGetValue(Annotation, out var value) != true || value is null)
            return null;
        var parts = value.Split(' ', 4);
        if (parts is [var stamp, var legacyMac] && Time(stamp) is { } since)
            return (stamp, new Due(since, since, ""), legacyMac);
        if (parts.Length >= 3 && Time(parts[1]) is { } changed && Time(parts[2]) is { } notBefore)
            return (value[(parts[0].Length + 1)..], new Due(changed, notBefore, parts.Length == 4 ? parts[3] : ""), parts[0]);
        return null;
    }

    public static void Clear(V1Secret secret) => secret.Metadata.Annotations?.Remove(Annotation);

    private static string Text(DateTimeOffset since, DateTimeOffset notBefore, string changes) =>
        $"{Stamp(since)} {Stamp(notBefore)}{(changes.Length > 0 ? " " + changes : "")}";

    private static string Stamp(DateTimeOffset time) => time.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    private static DateTimeOffset? Time(string text) =>
        DateTimeOffset.TryParseExact(text, TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time : null;

    private static string Mac(byte[] key, V1Secret secret, string signed) =>
        Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"restart-due\n{secret.Metadata.NamespaceProperty}\n{secret.Metadata.Name}\n{signed}")));
}
