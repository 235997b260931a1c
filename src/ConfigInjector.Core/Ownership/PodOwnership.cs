using k8s.Models;

namespace ConfigInjector.Core.Ownership;

/// <summary>
/// Whether an object really controls a pod. A pod's <c>ownerReferences</c> are written by whoever creates it, so a
/// tenant's pod may name any controller of its namespace; what the claim is worth is decided here: the object it names
/// must exist with that uid, and its selector must match the pod's labels (a ReplicaSet, StatefulSet, DaemonSet or Job
/// adopts only pods its selector matches).
/// </summary>
public static class PodOwnership
{
    /// <summary>The pod's controller reference (<c>controller: true</c>), or null for a bare pod.</summary>
    public static V1OwnerReference? ClaimedController(V1Pod pod) => pod.Metadata?.OwnerReferences?.FirstOrDefault(o => o?.Controller == true);

    /// <summary>True when the pod claims exactly this object (kind, name and uid) and the object's selector matches the pod's labels.</summary>
    public static bool Controls(string kind, string name, string? uid, V1LabelSelector? selector, V1Pod pod) =>
        ClaimedController(pod) is { } claim && claim.Kind == kind && claim.Name == name && !string.IsNullOrEmpty(uid) && claim.Uid == uid
        && LabelSelectors.Matches(selector, pod.Metadata?.Labels);

    /// <summary>True when <paramref name="owner"/>'s own controller reference names this object (kind, name and uid): a ReplicaSet's Deployment, a Job's CronJob.</summary>
    public static bool ControlledBy(V1ObjectMeta owner, string kind, string name, string? uid) =>
        owner.OwnerReferences?.FirstOrDefault(o => o?.Controller == true) is { } claim && claim.Kind == kind && claim.Name == name && !string.IsNullOrEmpty(uid) && claim.Uid == uid;
}
