using ConfigInjector.Core.Planning;
using ConfigInjector.Core.Policies;
using k8s.Models;

namespace ConfigInjector.Sync;

/// <summary>Who the worker reads a managed Secret's refs as: the service account its signature records (<c>identity: pod</c> backends).</summary>
internal static class ReadIdentity
{
    public static Subject Of(V1Secret secret) =>
        new(secret.Metadata.NamespaceProperty, ManagedSecretFactory.ServiceAccount(secret) ?? "default");
}
