using ConfigInjector.Backends;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;

namespace ConfigInjector.Cli;

/// <summary>
/// The second gate of <c>identity: pod</c> from a terminal: a read of the ref as the service account, reduced to what
/// the vault answered (found with its version, not found, refused, unreachable). The value read is dropped here.
/// </summary>
internal sealed class VaultVerdict(SecretReader reader)
{
    /// <summary>Null when the ref's backend reads with its own credential: then the SecretPolicies alone decide.</summary>
    public async Task<(bool Allowed, string Text)?> CheckAsync(SecretReference reference, Subject serviceAccount, CancellationToken cancellationToken)
    {
        if (!reader.ReadsAsPod(reference.Backend))
            return null;
        var read = await reader.ReadAsync(reader.KeyFor(reference.Location, serviceAccount), cancellationToken);
        var who = $"service account {serviceAccount.Namespace}/{serviceAccount.ServiceAccount}";
        return read.Status switch
        {
            ReadStatus.Found => (true, $"allowed  {who} may read it (version {read.Document!.Version})"),
            ReadStatus.NotFound => (false, $"not found  read as {who}: {read.Reason}"),
            ReadStatus.Refused => (false, $"refused  {read.Reason}"),
            _ => (false, $"unreachable  {read.Reason}"),
        };
    }
}
