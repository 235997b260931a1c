using ConfigInjector.Configuration;

namespace ConfigInjector.Backends.AzureKeyVault;

internal enum KeyVaultCredentialKind { Default, WorkloadIdentity, ManagedIdentity, ClientSecret }

/// <summary>The validated settings of one <c>type: azure-keyvault</c> backend.</summary>
internal sealed record KeyVaultSettings(
    Uri VaultUri,
    KeyVaultCredentialKind Credential,
    string? TenantId,
    string? ClientId,
    string? ClientSecretFile,
    string? TokenFile,
    Uri? AuthorityHost,
    string? CaFile,
    TimeSpan Timeout,
    int Attempts,
    TimeSpan BaseDelay,
    bool DisableChallengeResourceVerification)
{
    public static KeyVaultSettings Read(BackendSettings settings)
    {
        var node = settings.Node;
        var uriText = node.String("vaultUri", required: true)!;
        if (!Uri.TryCreate(uriText, UriKind.Absolute, out var vaultUri) || vaultUri.Scheme != "https")
            throw node.ErrorAt("vaultUri", $"\"{uriText}\" is not an https URL such as https://kv-prod.vault.azure.net/");
        var credential = node.String("credential") switch
        {
            null or "default" => KeyVaultCredentialKind.Default,
            "workload-identity" => KeyVaultCredentialKind.WorkloadIdentity,
            "managed-identity" => KeyVaultCredentialKind.ManagedIdentity,
            "client-secret" => KeyVaultCredentialKind.ClientSecret,
            var other => throw node.ErrorAt("credential", $"\"{other}\" is not default, workload-identity, managed-identity or client-secret"),
        };
        var tenantId = node.String("tenantId");
        var clientId = node.String("clientId");
        var secretFile = node.String("clientSecretFile") is { Length: > 0 } s ? settings.ResolvePath(s) : null;
        var tokenFile = node.String("tokenFile") is { Length: > 0 } t ? settings.ResolvePath(t) : null;
        if (credential == KeyVaultCredentialKind.ClientSecret && (tenantId is null || clientId is null || secretFile is null))
            throw node.ErrorAt("credential", "client-secret needs tenantId, clientId and clientSecretFile");
        Uri? authority = null;
        if (node.String("authorityHost") is { } authorityText && (!Uri.TryCreate(authorityText, UriKind.Absolute, out authority) || authority.Scheme != "https"))
            throw node.ErrorAt("authorityHost", $"\"{authorityText}\" is not an https URL such as https://login.microsoftonline.us/");
        var transport = TransportSettings.Read(settings);
        // For vaults reached through a private endpoint or proxy whose host is not under the vault's own domain.
        var disableVerification = node.Bool("disableChallengeResourceVerification", false);
        return new KeyVaultSettings(vaultUri, credential, tenantId, clientId, secretFile, tokenFile, authority, transport.CaFile, transport.Timeout, transport.Attempts, transport.BaseDelay, disableVerification);
    }
}
