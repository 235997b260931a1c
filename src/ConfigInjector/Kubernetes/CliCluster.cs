using ConfigInjector.Configuration;
using k8s;

namespace ConfigInjector.Kubernetes;

/// <summary>How the verbs that act on a cluster (<c>report</c>, <c>rotate</c>) reach it: the user's kubeconfig, and the install's keys read-only.</summary>
internal static class CliCluster
{
    public static IKubernetes Connect(string? kubeconfig, string? context) =>
        KubernetesConnection.Create(kubeconfig, context, userKubeconfig: true).Client
            ?? throw new ConfigException("no cluster: give --kubeconfig, set KUBECONFIG, write ~/.kube/config, or run inside a cluster");

    /// <summary>The install's own keys, read and never written: managed Secrets verified, KV v1 and file versions as its replicas compute them.</summary>
    public static KubernetesSigningKey InstallKeys(IKubernetes client, string injectorNamespace, string signingKeySecret, TimeProvider time) =>
        new(client, injectorNamespace, signingKeySecret, KubernetesTimings.Default, time, readOnly: true);
}
