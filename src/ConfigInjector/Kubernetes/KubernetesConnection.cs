using ConfigInjector.Configuration;
using k8s;

namespace ConfigInjector.Kubernetes;

/// <summary>How <c>serve</c> reaches a cluster: <c>--kubeconfig</c>, then <c>KUBECONFIG</c>, then the in-cluster service account; else none.</summary>
internal static class KubernetesConnection
{
    public static (IKubernetes? Client, string Description) Create(string? kubeconfig)
    {
        var file = kubeconfig ?? Environment.GetEnvironmentVariable("KUBECONFIG");
        try
        {
            if (!string.IsNullOrEmpty(file))
            {
                var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(file);
                return (new k8s.Kubernetes(config), $"kubeconfig {file} ({config.Host})");
            }
            if (KubernetesClientConfiguration.IsInCluster())
                return (new k8s.Kubernetes(KubernetesClientConfiguration.InClusterConfig()), "in-cluster service account");
        }
        catch (Exception e) when (e is k8s.Exceptions.KubeConfigException or IOException or UnauthorizedAccessException or FormatException)
        {
            throw new ConfigException($"{(kubeconfig is null ? "KUBECONFIG" : "--kubeconfig")} {file}: {e.Message.Split('\n')[0]}");
        }
        return (null, "no cluster (in-process store)");
    }
}
