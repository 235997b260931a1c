using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using Azure.Security.KeyVault.Secrets;
using ConfigInjector.Configuration;
using ConfigInjector.Tls;

namespace ConfigInjector.Backends.AzureKeyVault;

/// <summary><c>type: azure-keyvault</c> — the official <see cref="SecretClient"/> with an Azure.Identity credential.</summary>
internal sealed class KeyVaultBackendFactory : IBackendFactory
{
    public string Type => "azure-keyvault";

    public ISecretBackend Create(BackendSettings settings, BackendContext context)
    {
        var kv = KeyVaultSettings.Read(settings);
        var transport = Transport(kv, settings);
        var options = new SecretClientOptions { DisableChallengeResourceVerification = kv.DisableChallengeResourceVerification };
        Configure(options, kv, transport);
        if (settings.Identity == BackendIdentity.Pod)
        {
            // One credential and client per service account, all over the one transport.
            KeyVaultBackend ClientFor(string tenantId, string clientId, string who, Func<CancellationToken, Task<string>> assertion) =>
                new(settings.Name, new SecretClient(kv.VaultUri, new ClientAssertionCredential(tenantId, clientId, assertion, With(new ClientAssertionCredentialOptions
                {
                    DisableInstanceDiscovery = kv.AuthorityHost is not null,
                }, kv, transport)), options), kv, context.Time, who);
            return new KeyVaultPodBackend(settings.Name, new ServiceAccountClients(kv, context.ServiceAccounts, context.Time, ClientFor));
        }
        var client = new SecretClient(kv.VaultUri, Credential(kv, transport, settings), options);
        return new KeyVaultBackend(settings.Name, client, kv, context.Time);
    }

    /// <summary>Retries, timeouts and transport as for Key Vault, and the authority (public cloud unless <c>authorityHost</c> names another).</summary>
    private static T With<T>(T options, KeyVaultSettings kv, HttpPipelineTransport? transport) where T : TokenCredentialOptions
    {
        Configure(options, kv, transport);
        if (kv.AuthorityHost is not null)
            options.AuthorityHost = kv.AuthorityHost;
        return options;
    }

    private static void Configure(ClientOptions options, KeyVaultSettings kv, HttpPipelineTransport? transport)
    {
        options.Retry.MaxRetries = kv.Attempts - 1;
        options.Retry.Delay = kv.BaseDelay;
        options.Retry.MaxDelay = TimeSpan.FromSeconds(2);
        options.Retry.Mode = RetryMode.Exponential;
        options.Retry.NetworkTimeout = kv.Timeout;
        if (transport is not null)
            options.Transport = transport;
    }

    private static HttpClientTransport? Transport(KeyVaultSettings kv, BackendSettings settings)
    {
        if (kv.CaFile is null)
            return null;
        try
        {
            var handler = new SocketsHttpHandler();
            handler.SslOptions.RemoteCertificateValidationCallback = CustomCaTrust.Validator(CustomCaTrust.LoadBundle(kv.CaFile));
            return new HttpClientTransport(handler);
        }
        catch (Exception e) when (e is InvalidOperationException or System.Security.Cryptography.CryptographicException or IOException)
        {
            throw settings.Node.ErrorAt("caFile", e.Message);
        }
    }

    private static TokenCredential Credential(KeyVaultSettings kv, HttpPipelineTransport? transport, BackendSettings settings)
    {
        T With<T>(T options) where T : TokenCredentialOptions => KeyVaultBackendFactory.With(options, kv, transport);

        switch (kv.Credential)
        {
            case KeyVaultCredentialKind.WorkloadIdentity:
                // Tenant, client id and token file default to what the AKS workload identity webhook injects.
                return new WorkloadIdentityCredential(With(new WorkloadIdentityCredentialOptions
                {
                    TenantId = kv.TenantId ?? Environment.GetEnvironmentVariable("AZURE_TENANT_ID"),
                    ClientId = kv.ClientId ?? Environment.GetEnvironmentVariable("AZURE_CLIENT_ID"),
                    TokenFilePath = kv.TokenFile ?? Environment.GetEnvironmentVariable("AZURE_FEDERATED_TOKEN_FILE"),
                    DisableInstanceDiscovery = kv.AuthorityHost is not null,
                }));
            case KeyVaultCredentialKind.ManagedIdentity:
                return new ManagedIdentityCredential(With(new ManagedIdentityCredentialOptions(kv.ClientId is null
                    ? ManagedIdentityId.SystemAssigned
                    : ManagedIdentityId.FromUserAssignedClientId(kv.ClientId))));
            case KeyVaultCredentialKind.ClientSecret:
                string secret;
                try
                {
                    secret = File.ReadAllText(kv.ClientSecretFile!).Trim();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw settings.Node.ErrorAt("clientSecretFile", $"cannot read {kv.ClientSecretFile}: {e.Message}");
                }
                return new ClientSecretCredential(kv.TenantId, kv.ClientId, secret, With(new ClientSecretCredentialOptions
                {
                    DisableInstanceDiscovery = kv.AuthorityHost is not null,
                }));
            default:
                return new DefaultAzureCredential(With(new DefaultAzureCredentialOptions
                {
                    TenantId = kv.TenantId,
                    ManagedIdentityClientId = kv.ClientId,
                    ExcludeInteractiveBrowserCredential = true,
                }));
        }
    }
}
