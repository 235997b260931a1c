using System.Globalization;
using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Ownership;
using k8s.Models;

namespace ConfigInjector.Sync;

/// <summary>
/// Whether a restart recorded on a managed Secret is still due for one workload, decided from the cluster as it is
/// right before the restart: the workload exists; it was not restarted since the change (by this leader or an earlier
/// one); and it really controls a running pod that reads the Secret and was created before the change — by uid and
/// selector, through the ReplicaSet for a Deployment — so neither a pod's claim nor a workload whose pods were all
/// replaced meanwhile gets anything restarted.
/// </summary>
internal static class RestartDue
{
    public static async Task<RestartVerdict> CheckAsync(ISyncCluster cluster, Workload workload, string secretName, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var state = await cluster.ReadWorkloadAsync(workload, cancellationToken);
        if (state is null)
            return RestartVerdict.NotDue;
        if (DateTimeOffset.TryParse(state.RestartedAt, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var restartedAt) && restartedAt >= since)
            return await cluster.IsRolledOutAsync(workload, cancellationToken) ? RestartVerdict.NotDue : RestartVerdict.AlreadyRolling;
        var replicaSets = new Dictionary<string, V1ReplicaSet?>(StringComparer.Ordinal);
        foreach (var pod in await cluster.ListPodsAsync(workload.Namespace, cancellationToken))
        {
            if (pod.Metadata?.Annotations?.TryGetValue(AnnotationKeys.ManagedSecret, out var used) != true || used != secretName || pod.Metadata.DeletionTimestamp is not null
                || pod.Status?.Phase is "Succeeded" or "Failed" || pod.Metadata.CreationTimestamp > since.UtcDateTime)
                continue;
            if (await ControlsAsync(cluster, workload, state, pod, replicaSets, cancellationToken))
                return RestartVerdict.Due;
        }
        return RestartVerdict.NotDue;
    }

    private static async Task<bool> ControlsAsync(ISyncCluster cluster, Workload workload, WorkloadState state, V1Pod pod, Dictionary<string, V1ReplicaSet?> replicaSets, CancellationToken cancellationToken)
    {
        if (workload.Kind != "Deployment")
            return PodOwnership.Controls(workload.Kind, workload.Name, state.Uid, state.Selector, pod);
        if (PodOwnership.ClaimedController(pod) is not { Kind: "ReplicaSet" } claim)
            return false;
        if (!replicaSets.TryGetValue(claim.Name, out var replicaSet))
            replicaSets[claim.Name] = replicaSet = await cluster.ReadReplicaSetAsync(workload.Namespace, claim.Name, cancellationToken);
        return replicaSet is not null && PodOwnership.Controls("ReplicaSet", replicaSet.Metadata.Name, replicaSet.Metadata.Uid, replicaSet.Spec?.Selector, pod)
            && PodOwnership.ControlledBy(replicaSet.Metadata, "Deployment", workload.Name, state.Uid);
    }
}
