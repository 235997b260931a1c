using ConfigInjector.Configuration;
using k8s;

namespace ConfigInjector.Kubernetes;

/// <summary>
/// How a command reaches a cluster: <c>--kubeconfig</c>, then <c>KUBECONFIG</c> (one file), then, for the CLI's verbs
/// alone, <c>~/.kube/config</c>; then the in-cluster service account; else none. <c>--context</c> picks a context of the kubeconfig instead of its current one.
/// </summary>
internal static class KubernetesConnection
{
    /// <param name="userKubeconfig">Whether <c>~/.kube/config</c> counts, as for kubectl (the CLI), or not (<c>serve</c> without one runs in-process).</param>
    public static (IKubernetes? Client, string Description) Create(string? kubeconfig, string? context = null, bool userKubeconfig = false)
    {
        var files = Files(kubeconfig, userKubeconfig);
        var source = kubeconfig is not null ? "--kubeconfig" : "KUBECONFIG";
        try
        {
            if (files.Count > 0)
            {
                // The AOT client cannot merge kubeconfigs: say so rather than read one of them.
                if (files.Count > 1)
                    throw new ConfigException($"KUBECONFIG lists {files.Count} files; give the one to use with --kubeconfig");
                var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(files[0], currentContext: context);
                return (new k8s.Kubernetes(config), $"kubeconfig {string.Join(Path.PathSeparator, files)} ({config.Host})");
            }
            if (context is not null)
                throw new ConfigException($"--context {context}: no kubeconfig to find it in (give --kubeconfig or set KUBECONFIG)");
            if (KubernetesClientConfiguration.IsInCluster())
                return (new k8s.Kubernetes(KubernetesClientConfiguration.InClusterConfig()), "in-cluster service account");
        }
        catch (Exception e) when (e is k8s.Exceptions.KubeConfigException or IOException or UnauthorizedAccessException or FormatException)
        {
            throw new ConfigException($"{source} {string.Join(Path.PathSeparator, files)}: {e.Message.Split('\n')[0]}");
        }
        return (null, "no cluster (in-process store)");
    }

    private static List<string> Files(string? kubeconfig, bool userKubeconfig)
    {
        if (kubeconfig is not null)
            return [kubeconfig];
        var fromEnvironment = (Environment.GetEnvironmentVariable("KUBECONFIG") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        if (fromEnvironment.Length > 0)
            return [.. fromEnvironment];
        var user = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".kube", "config");
        return userKubeconfig && File.Exists(user) ? [user] : [];
    }
}
