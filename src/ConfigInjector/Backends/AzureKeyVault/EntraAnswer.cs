using Azure.Identity;
using ConfigInjector.Backends.PodIdentity;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;
using Microsoft.Identity.Client;

namespace ConfigInjector.Backends.AzureKeyVault;

/// <summary>
/// What a failed token exchange for a service account means. Azure.Identity wraps whatever failed (the TokenRequest in
/// the assertion callback, or Entra's answer) in one <see cref="AuthenticationFailedException"/>: Entra refusing the
/// assertion (no federated credential for that issuer, subject or audience) and a service account that does not exist
/// are answers about that identity; an API server or Entra out of reach is an outage.
/// </summary>
internal static partial class EntraAnswer
{
    public static SecretRead Of(SecretLocation location, string who, AuthenticationFailedException failure)
    {
        for (Exception? e = failure; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case ServiceAccountMissingException missing:
                    return SecretRead.Refused(location, $"{missing.Message} ({location.Backend} reads as the pod's service account)");
                case ServiceAccountUnavailableException unavailable:
                    return SecretRead.Failed(location, $"no token of {who}: {unavailable.Message}");
                case MsalServiceException { StatusCode: 400 or 401 } refused:
                    return SecretRead.Refused(location, $"Entra refused {who}: {KeyVaultBackend.FirstLine(refused.Message)}");
            }
        }
        if (VaultTenant(failure) is { } tenant)
        {
            return SecretRead.Refused(location,
                $"{who} cannot read this vault: it is in tenant {tenant}, and the service account names another ({ServiceAccountClients.TenantIdAnnotation}, else the backend's tenantId or AZURE_TENANT_ID; give the tenant's id, not its domain)");
        }
        return SecretRead.Failed(location, $"no Entra token for {who}: {KeyVaultBackend.FirstLine(failure.Message)}");
    }

    /// <summary>
    /// Key Vault's 401 challenge names the vault's tenant, and Azure.Identity will not ask another tenant than the
    /// credential's for a token (https://aka.ms/azsdk/net/identity/multitenant/troubleshoot). It says so only in its
    /// message: should that wording change, the failure stays an outage, as before.
    /// </summary>
    private static string? VaultTenant(AuthenticationFailedException failure) =>
        failure.InnerException is null && TenantNotAllowed().Match(failure.Message) is { Success: true } match ? match.Groups[1].Value : null;

    [System.Text.RegularExpressions.GeneratedRegex(@"not configured to acquire tokens for tenant ([0-9A-Za-z.-]+?)\.(\s|$)")]
    private static partial System.Text.RegularExpressions.Regex TenantNotAllowed();
}
