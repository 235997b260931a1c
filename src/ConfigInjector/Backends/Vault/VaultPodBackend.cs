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
internal sealed class VaultPodBackend(string name, VaultReads reads, ServiceAccountLogins logins) : ISecretBackend, IReadsAsServiceAccount, IIssuesLeases
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

    /// <summary>Issued to the pod's service account: its Vault role, not the webhook's, must allow the engine's path.</summary>
    public async ValueTask<IssuedSecret> IssueAsync(SecretLocation location, Subject? serviceAccount, CancellationToken cancellationToken)
    {
        if (serviceAccount is null)
            return new IssuedSecret(await ReadAsync(location, cancellationToken), null);
        var login = logins.For(serviceAccount);
        try
        {
            var (status, issued) = await reads.Leases.IssueAsync(location, login, cancellationToken);
            return status == HttpStatusCode.Forbidden ? new IssuedSecret(SecretRead.Refused(location, $"vault refused {login.Who}: {issued.Read.Reason}"), null) : issued;
        }
        catch (Exception e) when (e is VaultLoginRefusedException or ServiceAccountMissingException)
        {
            return new IssuedSecret(SecretRead.Refused(location, e.Message), null);
        }
        catch (ServiceAccountUnavailableException e)
        {
            return new IssuedSecret(SecretRead.Failed(location, $"no token of service account {serviceAccount.Namespace}/{serviceAccount.ServiceAccount}: {e.Message}"), null);
        }
    }

    public async ValueTask<IssuingEngine?> EngineOfAsync(SecretLocation location, Subject? serviceAccount, CancellationToken cancellationToken)
    {
        if (serviceAccount is null)
            return null;
        try
        {
            return await reads.Leases.EngineOfAsync(location, logins.For(serviceAccount), cancellationToken);
        }
        catch (Exception e) when (e is VaultLoginRefusedException or ServiceAccountMissingException or ServiceAccountUnavailableException)
        {
            return null;
        }
    }

    /// <summary>Renewed and revoked by the service account it was issued to.</summary>
    public ValueTask<LeaseAnswer> RenewAsync(Lease lease, Subject? serviceAccount, CancellationToken cancellationToken) =>
        AsAsync(serviceAccount, login => reads.Leases.RenewAsync(lease, login, cancellationToken));

    public ValueTask<LeaseAnswer> RevokeAsync(Lease lease, Subject? serviceAccount, CancellationToken cancellationToken) =>
        AsAsync(serviceAccount, login => reads.Leases.RevokeAsync(lease, login, cancellationToken));

    private async ValueTask<LeaseAnswer> AsAsync(Subject? serviceAccount, Func<IVaultAuth, Task<LeaseAnswer>> call)
    {
        if (serviceAccount is null)
            return new LeaseAnswer(LeaseOutcome.Failed, null, $"{name} reads as the pod's service account and none was named");
        try
        {
            return await call(logins.For(serviceAccount));
        }
        catch (Exception e) when (e is VaultLoginRefusedException or ServiceAccountMissingException or ServiceAccountUnavailableException)
        {
            return new LeaseAnswer(LeaseOutcome.Failed, null, e.Message);
        }
    }
}
