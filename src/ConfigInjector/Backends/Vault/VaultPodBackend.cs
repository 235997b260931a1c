using System.Net;
using ConfigInjector.Backends.PodIdentity;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;

namespace ConfigInjector.Backends.Vault;

/// <summary>
/// A Vault backend with <c>identity: pod</c>: every read is made with the Vault token of the pod's service account
/// (<see cref="ServiceAccountLogins"/>), so Vault's policies for that service account apply on top of the
/// SecretPolicies. Vault refusing it (login or read) is <see cref="ReadStatus.Refused"/>, naming the service account
/// and role; Vault or the API server out of reach stays an outage for <c>onBackendError</c>.
/// </summary>
internal sealed class VaultPodBackend(string name, VaultReads reads, ServiceAccountLogins logins) : ISecretBackend, IReadsAsServiceAccount
{
    public string Name => name;

    public ServiceAccountLogins Logins => logins;

    public ValueTask<SecretRead> ReadAsync(SecretLocation location, CancellationToken cancellationToken) =>
        ValueTask.FromResult(SecretRead.Failed(location, $"{name} reads as the pod's service account (identity: pod) and no service account was named (the CLI reads as one with --as NAMESPACE/SERVICEACCOUNT)"));

    public async ValueTask<SecretRead> ReadAsAsync(SecretLocation location, Subject serviceAccount, CancellationToken cancellationToken)
    {
        var login = logins.For(serviceAccount);
        try
        {
            var (status, read) = await reads.ReadAsync(location, login, cancellationToken);
            return status == HttpStatusCode.Forbidden ? SecretRead.Refused(location, $"vault refused {login.Who}: {read.Reason}") : read;
        }
        catch (VaultLoginRefusedException e)
        {
            return SecretRead.Refused(location, e.Message);
        }
        catch (ServiceAccountMissingException e)
        {
            return SecretRead.Refused(location, $"{e.Message} ({name} reads as the pod's service account)");
        }
        catch (ServiceAccountUnavailableException e)
        {
            return SecretRead.Failed(location, $"no token of service account {serviceAccount.Namespace}/{serviceAccount.ServiceAccount}: {e.Message}");
        }
    }
}
