using System.Text.Json.Nodes;
using k8s.Models;

namespace ConfigInjector.TestSupport;

/// <summary>Checks a mutated pod the way the API server and kubelet would care about.</summary>
public static class PodChecks
{
    /// <summary>Every value of <paramref name="original"/> is still in <paramref name="patched"/> at the same place.</summary>
    public static IReadOnlyList<string> Lost(JsonNode? original, JsonNode? patched, string path = "")
    {
        var lost = new List<string>();
        switch (original)
        {
            case JsonObject o when patched is JsonObject p:
                foreach (var (key, value) in o)
                {
                    if (!p.ContainsKey(key))
                        lost.Add($"{path}/{key}");
                    else
                        lost.AddRange(Lost(value, p[key], $"{path}/{key}"));
                }
                break;
            case JsonArray a when patched is JsonArray p:
                for (var i = 0; i < a.Count; i++)
                {
                    if (i >= p.Count)
                        lost.Add($"{path}/{i}");
                    else
                        lost.AddRange(Lost(a[i], p[i], $"{path}/{i}"));
                }
                break;
            default:
                if (!JsonNode.DeepEquals(original, patched))
                    lost.Add(path);
                break;
        }
        return lost;
    }

    /// <summary>Structural problems of a pod: volume mounts without volumes, duplicate names, refs to missing Secret keys.</summary>
    public static IReadOnlyList<string> Problems(V1Pod pod, V1Pod original, Func<string, V1Secret?> findSecret)
    {
        var problems = new List<string>();
        var volumes = pod.Spec.Volumes?.Select(v => v.Name).ToList() ?? [];
        problems.AddRange(volumes.GroupBy(v => v).Where(g => g.Count() > 1).Select(g => $"volume {g.Key} is defined twice"));
        var originals = (original.Spec.InitContainers ?? []).Concat(original.Spec.Containers).ToDictionary(c => c.Name);
        foreach (var container in (pod.Spec.InitContainers ?? []).Concat(pod.Spec.Containers))
        {
            foreach (var mount in container.VolumeMounts ?? [])
            {
                if (!volumes.Contains(mount.Name))
                    problems.Add($"container {container.Name} mounts {mount.Name}, which is not a volume");
            }
            problems.AddRange((container.VolumeMounts ?? []).GroupBy(m => m.MountPath).Where(g => g.Count() > 1)
                .Select(g => $"container {container.Name} mounts two volumes at {g.Key}"));
            var before = originals[container.Name].Env?.GroupBy(e => e.Name).ToDictionary(g => g.Key, g => g.Count()) ?? [];
            foreach (var group in (container.Env ?? []).GroupBy(e => e.Name))
            {
                if (group.Count() > before.GetValueOrDefault(group.Key, 1))
                    problems.Add($"container {container.Name} sets {group.Key} more than once");
            }
            foreach (var env in container.Env ?? [])
            {
                if (env.Value is not null && env.ValueFrom is not null)
                    problems.Add($"container {container.Name} env {env.Name} has both value and valueFrom");
                // Only refs the patch added are checked: the pod's own secretKeyRefs point at Secrets we did not write.
                var ownRef = originals[container.Name].Env?.Any(e => e.ValueFrom?.SecretKeyRef?.Name == env.ValueFrom?.SecretKeyRef?.Name) ?? false;
                if (env.ValueFrom?.SecretKeyRef is { } reference && !ownRef)
                    problems.AddRange(MissingKey(findSecret, reference.Name, reference.Key, $"container {container.Name} env {env.Name}"));
            }
        }
        foreach (var volume in pod.Spec.Volumes ?? [])
        {
            foreach (var item in volume.Secret?.Items ?? [])
                problems.AddRange(MissingKey(findSecret, volume.Secret!.SecretName, item.Key, $"volume {volume.Name}"));
        }
        return problems;
    }

    private static IEnumerable<string> MissingKey(Func<string, V1Secret?> findSecret, string name, string key, string where)
    {
        var secret = findSecret(name);
        if (secret is null)
            yield return $"{where} refers to Secret {name}, which was not created";
        else if (secret.Data?.ContainsKey(key) != true)
            yield return $"{where} refers to key {key}, which Secret {name} does not have";
    }
}
