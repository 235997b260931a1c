using System.Collections.Concurrent;
using k8s.Models;

namespace ConfigInjector.ManagedSecrets;

/// <summary>The embedded default's store when no cluster is reachable: Secrets kept in memory, logged by name only.</summary>
public sealed partial class InProcessManagedSecretStore(ILogger<InProcessManagedSecretStore> log) : IManagedSecretStore
{
    private readonly ConcurrentDictionary<(string Namespace, string Name), V1Secret> _secrets = new();

    public IReadOnlyCollection<V1Secret> Secrets => [.. _secrets.Values];

    public V1Secret? Find(string @namespace, string name) => _secrets.GetValueOrDefault((@namespace, name));

    public Task ApplyAsync(V1Secret secret, CancellationToken cancellationToken)
    {
        var key = (secret.Metadata.NamespaceProperty, secret.Metadata.Name);
        var created = _secrets.TryAdd(key, secret);
        if (!created)
        {
            // Pods of one workload share a Secret: admitting the next one changes nothing, so nothing is written or logged.
            if (_secrets.TryGetValue(key, out var stored) && SameContent(stored, secret))
                return Task.CompletedTask;
            _secrets[key] = secret;
        }
        LogStored(log, created ? "created" : "updated", key.NamespaceProperty, key.Name, secret.Data?.Count ?? 0);
        return Task.CompletedTask;
    }

    private static bool SameContent(V1Secret stored, V1Secret wanted) =>
        SameEntries(stored.Data, wanted.Data, (a, b) => a.AsSpan().SequenceEqual(b))
        && SameEntries(stored.Metadata.Annotations, wanted.Metadata.Annotations, string.Equals)
        && SameEntries(stored.Metadata.Labels, wanted.Metadata.Labels, string.Equals)
        && (stored.Metadata.OwnerReferences ?? []).Select(o => o.Uid).SequenceEqual((wanted.Metadata.OwnerReferences ?? []).Select(o => o.Uid));

    private static bool SameEntries<T>(IDictionary<string, T>? a, IDictionary<string, T>? b, Func<T, T, bool> same) =>
        (a?.Count ?? 0) == (b?.Count ?? 0)
        && (a is null || a.All(e => b!.TryGetValue(e.Key, out var other) && same(e.Value, other)));

    [LoggerMessage(Level = LogLevel.Information, Message = "managed Secret {Namespace}/{Name} {Action} in the in-process store ({Keys} keys)")]
    private static partial void LogStored(ILogger logger, string action, string @namespace, string name, int keys);
}
