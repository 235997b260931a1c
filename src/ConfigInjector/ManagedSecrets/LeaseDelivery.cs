using System.Text;
using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Planning;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using k8s.Models;

namespace ConfigInjector.ManagedSecrets;

/// <summary>
/// A lease record's credentials written into its managed Secret, by the lease keeper after a re-issue and by an
/// admission that replaced an expired lease. Whoever delivers reads the Secret first and the record after, then
/// replaces the Secret at the version it read: a record is always saved before its Secret is written, so a record read
/// after the Secret is at least as new as what the Secret holds, and a delivery never puts an older credential back.
/// </summary>
internal static class LeaseDelivery
{
    /// <summary>
    /// Puts each lease's credential into the keys of <paramref name="secret"/> that hold another version of it, the new
    /// versions into its signed sources and, where an env var changes under <c>onChange: restart</c>, a restart record;
    /// returns the changes (ref@version, never a value), none when the Secret holds them all. The caller checked the
    /// Secret is authentic.
    /// </summary>
    public static IReadOnlyList<string> Apply(V1Secret secret, LeaseRecord record, DateTimeOffset now, SigningKeys keys)
    {
        if (ManagedSecretFactory.ReadSources(secret) is not { } sources)
            return [];
        var updated = new Dictionary<string, KeySource>(sources);
        var changes = new List<string>();
        var envChanged = false;
        foreach (var (key, source) in sources)
        {
            var reference = ReferenceParser.Parse(source.Ref).Value;
            if (reference?.Key is null || !record.Leases.TryGetValue(reference.Location, out var credential) || source.Version == credential.Document.Version
                || !credential.Document.Data.TryGetValue(reference.Key, out var value))
                continue;
            secret.Data ??= new Dictionary<string, byte[]>();
            secret.Data[key] = Encoding.UTF8.GetBytes(value);
            updated[key] = source with { Version = credential.Document.Version };
            changes.Add($"{source.Ref}@{credential.Document.Version}");
            envChanged |= !key.StartsWith(ManagedSecretSpec.FileKeyPrefix, StringComparison.Ordinal);
        }
        if (changes.Count == 0)
            return [];
        secret.Metadata.Annotations[ManagedSecretFactory.SourcesAnnotation] = ManagedSecretFactory.SerializeSources(updated);
        if (envChanged && ManagedSecretFactory.ReadRotation(secret).OnChange == RotationMode.Restart)
            RestartRecord.Set(secret, now, RotationSettings.DefaultDebounce, changes, keys);
        ManagedSecretSignature.Upgrade(keys.Current, secret);
        return changes;
    }
}
