using ConfigInjector.Backends.PodIdentity;
using ConfigInjector.Configuration;
using ConfigInjector.Core.Policies;

namespace ConfigInjector.Kubernetes;

/// <summary>
/// Service accounts of the cluster a kubeconfig names, for a verb run from a terminal: it connects on the first read as
/// a service account, so a verb that never reads as one never needs the cluster; without one, that read fails with the reason.
/// </summary>
internal sealed class ConnectingServiceAccounts(string? kubeconfig, string? context) : IServiceAccounts
{
    private readonly Lazy<IServiceAccounts> _accounts = new(() =>
    {
        try
        {
            var (client, _) = KubernetesConnection.Create(kubeconfig, context, userKubeconfig: true);
            return client is null
                ? throw new ServiceAccountUnavailableException("reading as a service account needs its cluster: give --kubeconfig, set KUBECONFIG or write ~/.kube/config")
                : new KubernetesServiceAccounts(client);
        }
        catch (ConfigException e)
        {
            throw new ServiceAccountUnavailableException(e.Message);
        }
    });

    public Task<IReadOnlyDictionary<string, string>> AnnotationsAsync(Subject serviceAccount, CancellationToken cancellationToken) =>
        _accounts.Value.AnnotationsAsync(serviceAccount, cancellationToken);

    public Task<ServiceAccountToken> RequestTokenAsync(Subject serviceAccount, string audience, CancellationToken cancellationToken) =>
        _accounts.Value.RequestTokenAsync(serviceAccount, audience, cancellationToken);
}
