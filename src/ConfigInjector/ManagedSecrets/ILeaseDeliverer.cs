namespace ConfigInjector.ManagedSecrets;

/// <summary>Writes a lease record's credentials into its managed Secret where the Secret holds others (<see cref="LeaseDelivery"/>).</summary>
internal interface ILeaseDeliverer
{
    /// <summary>
    /// The changes written (ref@version, never a value); none when the Secret does not exist yet (the admission's
    /// write creates it with the new credential) or already holds them. Throws <see cref="ManagedSecretException"/>
    /// when the Secret cannot be written.
    /// </summary>
    Task<IReadOnlyList<string>> DeliverAsync(string @namespace, string secretName, CancellationToken cancellationToken);
}
