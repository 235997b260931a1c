using ConfigInjector.Configuration;
using ConfigInjector.Tls;

namespace ConfigInjector.Backends.Vault;

/// <summary><c>type: vault</c> — HashiCorp Vault or OpenBao.</summary>
internal sealed class VaultBackendFactory : IBackendFactory
{
    public string Type => "vault";

    public ISecretBackend Create(BackendSettings settings, BackendContext context)
    {
        var vault = VaultSettings.Read(settings);
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = vault.Timeout,
            AllowAutoRedirect = false,
        };
        if (vault.CaFile is not null)
        {
            try
            {
                handler.SslOptions.RemoteCertificateValidationCallback = CustomCaTrust.Validator(CustomCaTrust.LoadBundle(vault.CaFile));
            }
            catch (Exception e) when (e is InvalidOperationException or System.Security.Cryptography.CryptographicException or IOException)
            {
                throw settings.Node.ErrorAt("caFile", e.Message);
            }
        }
        var transport = new VaultTransport(new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan }, vault, context.Time);
        var reads = new VaultReads(vault, transport, context.Versions);
        if (vault.Auth is PodKubernetesAuthSettings pod)
            return new VaultPodBackend(settings.Name, reads, new ServiceAccountLogins(pod, context.ServiceAccounts, transport, context.Time));
        var auth = VaultAuthFactory.Create(vault.Auth, transport, context.Time);
        var backend = new VaultBackend(settings.Name, reads, auth);
        return vault.Events ? new VaultEventsBackend(backend, vault, auth) : backend;
    }
}
