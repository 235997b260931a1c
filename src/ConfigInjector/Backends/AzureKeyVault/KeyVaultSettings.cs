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
    /// <summary>The audience of the service-account token Entra exchanges (AKS's default; sovereign clouds name their own).</summary>
    public const string DefaultTokenAudience = "api://AzureADTokenExchange";

    /// <summary><c>identity: pod</c>: the audience asked for in each service account's TokenRequest.</summary>
    public string TokenAudience { get; init; } = DefaultTokenAudience;

    /// <summary>The backend's own credential, which <c>identity: pod</c> does not use.</summary>
    private static readonly string[] OwnCredentialFields = ["credential", "clientId", "clientSecretFile", "tokenFile"];

    public static KeyVaultSettings Read(BackendSettings settings)
    {
        var node = settings.Node;
        var uriText = node.String("vaultUri", required: true)!;
        if (!Uri.TryCreate(uriText, UriKind.Absolute, out var vaultUri) || vaultUri.Scheme != "https")
            throw node.ErrorAt("vaultUri", $"\"{uriText}\" is not an https URL such as https://kv-prod.vault.azure.net/");
        var credentialText = node.String("credential");
        var credential = credentialText switch
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
        if (settings.Identity == BackendIdentity.Pod && OwnCredentialFields.FirstOrDefault(f => node.String(f) is not null) is { } own)
            throw node.ErrorAt(own, $"identity: pod reads with the client id each service account names (azure.workload.identity/client-id); remove {own}");
        var audience = node.String("audience");
        if (audience is not null && settings.Identity != BackendIdentity.Pod)
            throw node.ErrorAt("audience", "audience is the service-account token's audience for identity: pod");
        Uri? authority = null;
        if (node.String("authorityHost") is { } authorityText && (!Uri.TryCreate(authorityText, UriKind.Absolute, out authority) || authority.Scheme != "https"))
            throw node.ErrorAt("authorityHost", $"\"{authorityText}\" is not an https URL such as https://login.microsoftonline.us/");
        var transport = TransportSettings.Read(settings);
        // For vaults reached through a private endpoint or proxy whose host is not under the vault's own domain.
        var disableVerification = node.Bool("disableChallengeResourceVerification", false);
        return new KeyVaultSettings(vaultUri, credential, tenantId, clientId, secretFile, tokenFile, authority, transport.CaFile, transport.Timeout, transport.Attempts, transport.BaseDelay, disableVerification)
        {
            TokenAudience = string.IsNullOrWhiteSpace(audience) ? DefaultTokenAudience : audience.Trim(),
        };
    }
}
