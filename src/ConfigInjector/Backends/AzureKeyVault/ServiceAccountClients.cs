using System.Collections.Concurrent;
using ConfigInjector.Backends.PodIdentity;
using ConfigInjector.Core.Policies;

namespace ConfigInjector.Backends.AzureKeyVault;

/// <summary>
/// One Key Vault client per service account of one backend (<c>identity: pod</c>), with the Entra app the service
/// account names in its annotations, as AKS workload identity does. Its credential exchanges a fresh TokenRequest token
/// for an Entra token only when Azure.Identity's cache needs one, and the client's pipeline lets one caller fetch it while
/// the others wait: however many pods and Secrets of one service account read at once, one TokenRequest and one
/// exchange per Entra token lifetime. The annotations are read again once they are <see cref="AnnotationsFreshFor"/>
/// old (one GET of the service account, whoever reads meanwhile waits for it): a client id or tenant id changed since
/// gets a new client from that read on, an unchanged one keeps its client and the Entra token it holds.
/// </summary>
internal sealed class ServiceAccountClients(KeyVaultSettings settings, IServiceAccounts accounts, TimeProvider time, Func<string, string, string, Func<CancellationToken, Task<string>>, KeyVaultBackend> clientFor)
{
    public const string ClientIdAnnotation = "azure.workload.identity/client-id";
    public const string TenantIdAnnotation = "azure.workload.identity/tenant-id";

    /// <summary>How long a service account's annotations are taken as read (then a client id changed since applies).</summary>
    public static readonly TimeSpan AnnotationsFreshFor = ServiceAccountAnnotations.FreshFor;

    /// <summary>Past this many service accounts, the clients are forgotten (each exchanges again when next used).</summary>
    private const int Capacity = 10_000;

    // One entry per service account, replaced when its annotations name another app: the client it held (a SecretClient
    // and its credential, over the backend's one transport) owns nothing to dispose and goes with its last reader.
    private readonly ConcurrentDictionary<Subject, Lazy<Task<Kept>>> _clients = new();
    private int _exchanges;

    /// <summary>Token exchanges (a TokenRequest each) so far, over every service account (the benchmark's figure).</summary>
    public int Exchanges => Volatile.Read(ref _exchanges);

    /// <summary>Service accounts a client is kept for.</summary>
    public int Count => _clients.Count;

    /// <exception cref="ServiceAccountMissingException">The service account does not exist.</exception>
    /// <exception cref="ServiceAccountNotFederatedException">It names no client id (or no tenant is known).</exception>
    /// <exception cref="ServiceAccountUnavailableException">The API server could not be asked.</exception>
    public async Task<ServiceAccountClient> ForAsync(Subject serviceAccount, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_clients.Count >= Capacity)
                _clients.Clear();
            var entry = _clients.GetOrAdd(serviceAccount, sa => new Lazy<Task<Kept>>(() => KeepAsync(sa, null)));
            Kept kept;
            try
            {
                kept = await entry.Value.WaitAsync(cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A failure is not kept: the next read asks the API server again (the annotation may have been added).
                _clients.TryRemove(KeyValuePair.Create(serviceAccount, entry));
                throw;
            }
            if (time.GetUtcNow() - kept.ReadAt < AnnotationsFreshFor)
                return kept.Client;
            // The first to find it stale puts the read in its place; it and everyone else then wait for that one read.
            _clients.TryUpdate(serviceAccount, new Lazy<Task<Kept>>(() => KeepAsync(serviceAccount, kept)), entry);
        }
    }

    /// <summary>Drops a client whose identity was refused, so a corrected annotation applies from the next read on.</summary>
    public void Forget(ServiceAccountClient client)
    {
        if (_clients.TryGetValue(client.ServiceAccount, out var entry) && entry.IsValueCreated && entry.Value.IsCompletedSuccessfully && entry.Value.Result.Client == client)
            _clients.TryRemove(KeyValuePair.Create(client.ServiceAccount, entry));
    }

    // Shared by every waiting reader, so none of their cancellations may end it.
    private async Task<Kept> KeepAsync(Subject serviceAccount, Kept? previous)
    {
        IReadOnlyDictionary<string, string> annotations;
        try
        {
            annotations = await accounts.AnnotationsAsync(serviceAccount, CancellationToken.None);
        }
        catch (ServiceAccountUnavailableException) when (previous is not null)
        {
            // The API server out of reach is no reason to stop reading as the app it named a minute ago: asked again later.
            return previous with { ReadAt = time.GetUtcNow() };
        }
        var federation = Federation.Of(serviceAccount, annotations, settings);
        return new Kept(federation == previous?.Federation ? previous.Client : Create(serviceAccount, federation), federation, time.GetUtcNow());
    }

    private ServiceAccountClient Create(Subject serviceAccount, Federation federation)
    {
        async Task<string> AssertionAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _exchanges);
            return (await accounts.RequestTokenAsync(serviceAccount, settings.TokenAudience, cancellationToken)).Token;
        }

        var who = $"service account {serviceAccount.Namespace}/{serviceAccount.ServiceAccount} (client id {federation.ClientId})";
        return new ServiceAccountClient(serviceAccount, who, clientFor(federation.TenantId, federation.ClientId, who, AssertionAsync));
    }

    /// <summary>A client of one service account, and the app and the time of the annotations it was made from.</summary>
    private sealed record Kept(ServiceAccountClient Client, Federation Federation, DateTimeOffset ReadAt);

    /// <summary>The Entra app a service account reads Key Vault as: what a client is made from.</summary>
    private sealed record Federation(string TenantId, string ClientId)
    {
        public static Federation Of(Subject serviceAccount, IReadOnlyDictionary<string, string> annotations, KeyVaultSettings settings)
        {
            var clientId = annotations.GetValueOrDefault(ClientIdAnnotation)?.Trim();
            if (string.IsNullOrEmpty(clientId))
                throw new ServiceAccountNotFederatedException($"service account {serviceAccount.Namespace}/{serviceAccount.ServiceAccount} has no {ClientIdAnnotation} annotation naming the Entra app it reads Key Vault as");
            var tenantId = annotations.GetValueOrDefault(TenantIdAnnotation)?.Trim() is { Length: > 0 } named ? named : settings.TenantId ?? Environment.GetEnvironmentVariable("AZURE_TENANT_ID");
            if (string.IsNullOrEmpty(tenantId))
                throw new ServiceAccountNotFederatedException($"service account {serviceAccount.Namespace}/{serviceAccount.ServiceAccount} has no {TenantIdAnnotation} annotation and the backend sets no tenantId");
            return new Federation(tenantId, clientId);
        }
    }
}

/// <summary>The Key Vault reads of one service account: <see cref="Who"/> names it (and its client id) in every refusal.</summary>
internal sealed record ServiceAccountClient(Subject ServiceAccount, string Who, KeyVaultBackend Reads);

/// <summary>The service account names no Entra app to read as: the pod is refused, whatever <c>onBackendError</c> says.</summary>
internal sealed class ServiceAccountNotFederatedException(string message) : Exception(message);
