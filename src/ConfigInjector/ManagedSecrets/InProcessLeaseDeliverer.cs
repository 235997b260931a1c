using ConfigInjector.Core.Planning;

namespace ConfigInjector.ManagedSecrets;

/// <summary>Delivery into the in-process store (no cluster): one process writes it, so no version to guard.</summary>
internal sealed class InProcessLeaseDeliverer(InProcessManagedSecretStore store, ILeaseRecords records, ISigningKey signingKey, TimeProvider time) : ILeaseDeliverer
{
    public async Task<IReadOnlyList<string>> DeliverAsync(string @namespace, string secretName, CancellationToken cancellationToken)
    {
        if (store.Find(@namespace, secretName) is not { } stored)
            return [];
        var keys = await signingKey.GetAsync(cancellationToken);
        if (!ManagedSecretFactory.IsAuthentic(stored, keys) || await records.FindAsync(@namespace, secretName, cancellationToken) is not { } record)
            return [];
        // The stored object is changed only through the store, never in place.
        var secret = ManagedSecretFactory.Copy(stored);
        var changes = LeaseDelivery.Apply(secret, record, time.GetUtcNow(), keys);
        if (changes.Count > 0)
            await store.ApplyAsync(secret, cancellationToken);
        return changes;
    }
}
