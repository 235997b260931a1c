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
            _secrets[key] = secret;
        LogStored(log, created ? "created" : "updated", key.NamespaceProperty, key.Name, secret.Data?.Count ?? 0);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "managed Secret {Namespace}/{Name} {Action} in the in-process store ({Keys} keys)")]
    private static partial void LogStored(ILogger logger, string action, string @namespace, string name, int keys);
}
