using k8s.Models;

namespace ConfigInjector.Core.Planning;

/// <summary>
/// The parts of a pod the planner walks, checked for shapes the typed model lets through but Kubernetes never
/// sends (a null list entry, a container or env var without a name), so a forged review is refused with a reason
/// instead of failing somewhere inside planning.
/// </summary>
public static class PodShape
{
    /// <summary>What is malformed, as a JSON path, or null when the pod can be planned.</summary>
    public static string? Problem(V1Pod pod)
    {
        if (pod.Metadata?.OwnerReferences is { } owners && IndexOfNull(owners) is { } owner)
            return $"metadata.ownerReferences[{owner}] is null";
        if (pod.Spec is not { } spec)
            return null;
        if (spec.Volumes is { } volumes && IndexOfNull(volumes) is { } volume)
            return $"spec.volumes[{volume}] is null";
        return Containers("spec.initContainers", spec.InitContainers) ?? Containers("spec.containers", spec.Containers);
    }

    private static string? Containers(string path, IList<V1Container>? containers)
    {
        for (var i = 0; containers is not null && i < containers.Count; i++)
        {
            var container = containers[i];
            if (container is null)
                return $"{path}[{i}] is null";
            if (container.Name is null)
                return $"{path}[{i}].name is missing";
            for (var e = 0; container.Env is not null && e < container.Env.Count; e++)
            {
                if (container.Env[e] is null)
                    return $"{path}[{i}].env[{e}] is null";
                if (container.Env[e].Name is null)
                    return $"{path}[{i}].env[{e}].name is missing";
            }
            for (var m = 0; container.VolumeMounts is not null && m < container.VolumeMounts.Count; m++)
            {
                if (container.VolumeMounts[m]?.MountPath is null)
                    return $"{path}[{i}].volumeMounts[{m}] has no mountPath";
            }
        }
        return null;
    }

    private static int? IndexOfNull<T>(IList<T> items)
        where T : class
    {
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i] is null)
                return i;
        }
        return null;
    }
}
