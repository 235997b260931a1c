using k8s.Models;

namespace ConfigInjector.ManagedSecrets;

/// <summary>Where managed Secrets are written: the Kubernetes API in a cluster, an in-process store without one.</summary>
internal interface IManagedSecretStore
{
    Task ApplyAsync(V1Secret secret, CancellationToken cancellationToken);
}
