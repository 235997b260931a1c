using ConfigInjector.Core.Policies;

namespace ConfigInjector.Backends.PodIdentity;

/// <summary>
/// What <c>identity: pod</c> asks the API server about a pod's service account: its annotations (the Vault role or the
/// Azure client id it names) and a short-lived token of it (TokenRequest on <c>serviceaccounts/&lt;name&gt;/token</c>).
/// The Kubernetes adapter implements it; without a cluster there is no service account to read as.
/// </summary>
internal interface IServiceAccounts
{
    /// <exception cref="ServiceAccountMissingException">The service account does not exist.</exception>
    Task<IReadOnlyDictionary<string, string>> AnnotationsAsync(Subject serviceAccount, CancellationToken cancellationToken);

    /// <summary>A token of <paramref name="serviceAccount"/> for <paramref name="audience"/>, valid for <see cref="ServiceAccountToken.Lifetime"/>.</summary>
    /// <exception cref="ServiceAccountMissingException">The service account does not exist.</exception>
    Task<ServiceAccountToken> RequestTokenAsync(Subject serviceAccount, string audience, CancellationToken cancellationToken);
}

/// <summary>A service-account token (a JWT): never logged, never put in a message.</summary>
internal sealed record ServiceAccountToken(string Token, DateTimeOffset ExpiresAt)
{
    /// <summary>
    /// How long a token is asked for: ten minutes, the shortest the API server issues (TokenRequest's
    /// <c>expirationSeconds</c> must be at least 600: https://kubernetes.io/docs/reference/kubernetes-api/authentication-resources/token-request-v1/).
    /// It is only shown to the vault at login, so a short life costs nothing.
    /// </summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    public override string ToString() => $"ServiceAccountToken(expires {ExpiresAt:u})";
}

/// <summary>The pod's service account does not exist: the pod is refused, whatever <c>onBackendError</c> says.</summary>
internal sealed class ServiceAccountMissingException(Subject serviceAccount)
    : Exception($"service account {serviceAccount.Namespace}/{serviceAccount.ServiceAccount} does not exist");

/// <summary>The API server could not be asked (unreachable, or the injector lacks the RBAC): an outage for <c>onBackendError</c>.</summary>
internal sealed class ServiceAccountUnavailableException(string message) : Exception(message);

/// <summary>Outside a cluster (<c>inject</c>, <c>serve</c> with no API server): nobody to ask for a service account's token.</summary>
internal sealed class NoServiceAccounts : IServiceAccounts
{
    public static readonly NoServiceAccounts Instance = new();

    private const string Reason = "identity: pod reads as the pod's service account, which needs a Kubernetes API server (none is configured)";

    public Task<IReadOnlyDictionary<string, string>> AnnotationsAsync(Subject serviceAccount, CancellationToken cancellationToken) =>
        throw new ServiceAccountUnavailableException(Reason);

    public Task<ServiceAccountToken> RequestTokenAsync(Subject serviceAccount, string audience, CancellationToken cancellationToken) =>
        throw new ServiceAccountUnavailableException(Reason);
}
