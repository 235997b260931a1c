using ConfigInjector.Core.Policies;
using k8s;

namespace ConfigInjector.Kubernetes;

/// <summary>The cluster's SecretPolicies read once (for the report's POLICY column), through the same source serve watches.</summary>
internal static class ClusterPolicies
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    public static async Task<(IReadOnlyList<SecretPolicy> Current, string? Problem)> ReadAsync(IKubernetes client, ILoggerFactory logs, CancellationToken cancellationToken)
    {
        // One plain list first: a missing CRD (404) or no right to list (403) is said at once, not after a wait.
        try
        {
            await KubernetesErrors.Call(() => client.CustomObjects.ListClusterCustomObjectAsync(CustomResourcePolicySource.Group, CustomResourcePolicySource.Version, "secretpolicies", limit: 1, cancellationToken: cancellationToken),
                "list", "secretpolicies", null);
        }
        catch (Sync.ClusterApiException e)
        {
            return ([], $"the cluster's SecretPolicies could not be read ({e.Message}); give --policies DIR to name the policies");
        }
        using var source = new CustomResourcePolicySource(client, KubernetesTimings.Default, TimeProvider.System, logs.CreateLogger<CustomResourcePolicySource>());
        await source.StartAsync(cancellationToken);
        try
        {
            var until = DateTimeOffset.UtcNow + Patience;
            while (!source.Ready && DateTimeOffset.UtcNow < until)
                await Task.Delay(50, cancellationToken);
            return source.Ready ? (source.Current, null) : ([], $"the cluster's SecretPolicies could not be read within {Patience.TotalSeconds:0}s");
        }
        finally
        {
            await source.StopAsync(CancellationToken.None);
        }
    }
}
