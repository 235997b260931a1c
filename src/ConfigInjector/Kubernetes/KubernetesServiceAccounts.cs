using ConfigInjector.Backends.PodIdentity;
using ConfigInjector.Core.Policies;
using ConfigInjector.Sync;
using k8s;
using k8s.Models;

namespace ConfigInjector.Kubernetes;

/// <summary>
/// A pod's service account through the API server: GET <c>serviceaccounts/&lt;name&gt;</c> for its annotations, and a
/// TokenRequest (POST <c>serviceaccounts/&lt;name&gt;/token</c>, authentication.k8s.io/v1) for a token with the
/// vault's audience. A 404 means the service account does not exist; any other failure is an outage.
/// </summary>
internal sealed class KubernetesServiceAccounts(IKubernetes client) : IServiceAccounts
{
    public async Task<IReadOnlyDictionary<string, string>> AnnotationsAsync(Subject serviceAccount, CancellationToken cancellationToken)
    {
        var found = await CallAsync(serviceAccount, "get", "serviceaccounts",
            () => client.CoreV1.ReadNamespacedServiceAccountAsync(serviceAccount.ServiceAccount, serviceAccount.Namespace, cancellationToken: cancellationToken));
        return found.Metadata?.Annotations?.AsReadOnly() ?? (IReadOnlyDictionary<string, string>)new Dictionary<string, string>();
    }

    public async Task<ServiceAccountToken> RequestTokenAsync(Subject serviceAccount, string audience, CancellationToken cancellationToken)
    {
        var request = new Authenticationv1TokenRequest
        {
            ApiVersion = "authentication.k8s.io/v1",
            Kind = "TokenRequest",
            Spec = new V1TokenRequestSpec { Audiences = [audience], ExpirationSeconds = (long)ServiceAccountToken.Lifetime.TotalSeconds },
        };
        // The span names whose token was asked for; the token itself is never on it.
        using var span = Observability.Tracing.Source.StartActivity(Observability.Tracing.TokenRequest);
        span?.SetTag(Observability.Tracing.Namespace, serviceAccount.Namespace);
        span?.SetTag(Observability.Tracing.ServiceAccount, serviceAccount.ServiceAccount);
        Authenticationv1TokenRequest answer;
        try
        {
            answer = await CallAsync(serviceAccount, "create", "serviceaccounts/token",
                () => client.CoreV1.CreateNamespacedServiceAccountTokenAsync(request, serviceAccount.ServiceAccount, serviceAccount.Namespace, cancellationToken: cancellationToken));
        }
        catch (Exception e) when (e is ServiceAccountMissingException or ServiceAccountUnavailableException && Observability.Tracing.Fail(span, e.Message))
        {
            throw; // never reached: Fail records the reason and lets the exception go on to the caller
        }
        // The API server may shorten the lifetime (--service-account-max-token-expiration): its answer counts.
        return answer.Status?.Token is { Length: > 0 } token
            ? new ServiceAccountToken(token, answer.Status.ExpirationTimestamp is { } expires ? new DateTimeOffset(DateTime.SpecifyKind(expires, DateTimeKind.Utc)) : DateTimeOffset.MaxValue)
            : throw new ServiceAccountUnavailableException($"the TokenRequest for {serviceAccount.Namespace}/{serviceAccount.ServiceAccount} was answered without a token");
    }

    private static async Task<T> CallAsync<T>(Subject serviceAccount, string verb, string resource, Func<Task<T>> call)
    {
        try
        {
            return await KubernetesErrors.Call(call, verb, resource, serviceAccount.Namespace);
        }
        catch (ClusterApiException e) when (e.IsNotFound)
        {
            throw new ServiceAccountMissingException(serviceAccount);
        }
        catch (ClusterApiException e)
        {
            throw new ServiceAccountUnavailableException(e.Message);
        }
        catch (HttpRequestException e)
        {
            throw new ServiceAccountUnavailableException(KubernetesErrors.Describe(null, e.Message, verb, resource, serviceAccount.Namespace));
        }
    }
}
