using System.Collections.Concurrent;
using ConfigInjector.Backends.PodIdentity;
using ConfigInjector.Core.Policies;

namespace ConfigInjector.Backends.AzureKeyVault;

/// <summary>
/// One Key Vault client per service account of one backend (<c>identity: pod</c>), with the Entra app the service
/// account names in its annotations, as AKS workload identity does. Its credential exchanges a fresh TokenRequest token
/// for an Entra token only when Azure.Identity's cache needs one, and the client's pipeline lets one caller fetch it while
/// the others wait: however many pods and Secrets of one service account read at once, one TokenRequest and one
/// exchange per Entra token lifetime.
/// </summary>
internal sealed class ServiceAccountClients(KeyVaultSettings settings, IServiceAccounts accounts, Func<string, string, string, Func<CancellationToken, Task<string>>, KeyVaultBackend> clientFor)
{
    public const string ClientIdAnnotation = "azure.workload.identity/client-id";
    public const string TenantIdAnnotation = "azure.workload.identity/tenant-id";

    /// <summary>Past this many service accounts, the clients are forgotten (each exchanges again when next used).</summary>
    private const int Capacity = 10_000;

    private readonly ConcurrentDictionary<Subject, Lazy<Task<ServiceAccountClient>>> _clients = new();
    private int _exchanges;

    /// <summary>Token exchanges (a TokenRequest each) so far, over every service account (the benchmark's figure).</summary>
    public int Exchanges => Volatile.Read(ref _exchanges);

    /// <exception cref="ServiceAccountMissingException">The service account does not exist.</exception>
    /// <exception cref="ServiceAccountNotFederatedException">It names no client id (or no tenant is known).</exception>
    /// <exception cref="ServiceAccountUnavailableException">The API server could not be asked.</exception>
    public async Task<ServiceAccountClient> ForAsync(Subject serviceAccount, CancellationToken cancellationToken)
    {
        if (_clients.Count >= Capacity)
            _clients.Clear();
        var entry = _clients.GetOrAdd(serviceAccount, sa => new Lazy<Task<ServiceAccountClient>>(() => CreateAsync(sa)));
        try
        {
            return await entry.Value.WaitAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A failure is not kept: the next read asks the API server again (the annotation may have been added).
            _clients.TryRemove(KeyValuePair.Create(serviceAccount, entry));
            throw;
        }
    }

    /// <summary>Drops a client whose identity was refused, so a corrected annotation applies from the next read on.</summary>
    public void Forget(ServiceAccountClient client)
    {
        if (_clients.TryGetValue(client.ServiceAccount, out var entry) && entry.IsValueCreated && entry.Value.IsCompletedSuccessfully && entry.Value.Result == client)
            _clients.TryRemove(KeyValuePair.Create(client.ServiceAccount, entry));
    }

    // Shared by every waiting reader, so none of their cancellations may end it.
    private async Task<ServiceAccountClient> CreateAsync(Subject serviceAccount)
    {
        var annotations = await accounts.AnnotationsAsync(serviceAccount, CancellationToken.None);
        var clientId = annotations.GetValueOrDefault(ClientIdAnnotation)?.Trim();
        if (string.IsNullOrEmpty(clientId))
            throw new ServiceAccountNotFederatedException($"service account {serviceAccount.Namespace}/{serviceAccount.ServiceAccount} has no {ClientIdAnnotation} annotation naming the Entra app it reads Key Vault as");
        var tenantId = annotations.GetValueOrDefault(TenantIdAnnotation)?.Trim() is { Length: > 0 } named ? named : settings.TenantId ?? Environment.GetEnvironmentVariable("AZURE_TENANT_ID");
        if (string.IsNullOrEmpty(tenantId))
            throw new ServiceAccountNotFederatedException($"service account {serviceAccount.Namespace}/{serviceAccount.ServiceAccount} has no {TenantIdAnnotation} annotation and the backend sets no tenantId");

        async Task<string> AssertionAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _exchanges);
            return (await accounts.RequestTokenAsync(serviceAccount, settings.TokenAudience, cancellationToken)).Token;
        }

        var who = $"service account {serviceAccount.Namespace}/{serviceAccount.ServiceAccount} (client id {clientId})";
        return new ServiceAccountClient(serviceAccount, who, clientFor(tenantId, clientId, who, AssertionAsync));
    }
}

/// <summary>The Key Vault reads of one service account: <see cref="Who"/> names it (and its client id) in every refusal.</summary>
internal sealed record ServiceAccountClient(Subject ServiceAccount, string Who, KeyVaultBackend Reads);

/// <summary>The service account names no Entra app to read as: the pod is refused, whatever <c>onBackendError</c> says.</summary>
internal sealed class ServiceAccountNotFederatedException(string message) : Exception(message);
