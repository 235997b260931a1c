using ConfigInjector.Backends.PodIdentity;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;

namespace ConfigInjector.Backends.AzureKeyVault;

/// <summary>
/// An Azure Key Vault backend with <c>identity: pod</c>: every read is made with an Entra token of the app the pod's
/// service account names (<see cref="ServiceAccountClients"/>), so Key Vault's role assignments for that app apply on
/// top of the SecretPolicies. Key Vault or Entra refusing it, or a service account that names no app, is
/// <see cref="ReadStatus.Refused"/>; Key Vault, Entra or the API server out of reach stays an outage for <c>onBackendError</c>.
/// </summary>
internal sealed class KeyVaultPodBackend(string name, ServiceAccountClients clients) : ISecretBackend, IReadsAsServiceAccount
{
    public string Name => name;

    public ServiceAccountClients Clients => clients;

    public ValueTask<SecretRead> ReadAsync(SecretLocation location, CancellationToken cancellationToken) =>
        ValueTask.FromResult(SecretRead.Failed(location, $"{name} reads as the pod's service account (identity: pod) and no service account was named (the CLI reads as one with --as NAMESPACE/SERVICEACCOUNT)"));

    public async ValueTask<SecretRead> ReadAsAsync(SecretLocation location, Subject serviceAccount, CancellationToken cancellationToken)
    {
        ServiceAccountClient client;
        try
        {
            client = await clients.ForAsync(serviceAccount, cancellationToken);
        }
        catch (ServiceAccountMissingException e)
        {
            return SecretRead.Refused(location, $"{e.Message} ({name} reads as the pod's service account)");
        }
        catch (ServiceAccountNotFederatedException e)
        {
            return SecretRead.Refused(location, $"{e.Message} ({name} reads as the pod's service account)");
        }
        catch (ServiceAccountUnavailableException e)
        {
            return SecretRead.Failed(location, $"no token of service account {serviceAccount.Namespace}/{serviceAccount.ServiceAccount}: {e.Message}");
        }
        var read = await client.Reads.ReadAsync(location, cancellationToken);
        if (read.Status == ReadStatus.Refused)
            clients.Forget(client);
        return read;
    }
}
