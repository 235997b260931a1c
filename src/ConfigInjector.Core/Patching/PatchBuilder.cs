using System.Text.Json.Nodes;
using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Planning;
using k8s;
using k8s.Models;

namespace ConfigInjector.Core.Patching;

/// <summary>
/// Turns a plan into explicit JSON-patch operations against the pod as it was received: an absent array is
/// added whole, an existing one is appended to with "/-", single env entries are replaced in place, and
/// nothing else of the pod is touched.
/// </summary>
public static class PatchBuilder
{
    public static IReadOnlyList<PatchOperation> Build(V1Pod pod, InjectionPlan plan)
    {
        var ops = new List<PatchOperation>();
        AddAnnotations(pod, plan, ops);

        if (plan.FileItems.Count > 0 && plan.Secret is not null)
        {
            var volume = new V1Volume
            {
                Name = InjectionPlan.FilesVolumeName,
                Secret = new V1SecretVolumeSource { SecretName = plan.Secret.Name, Items = [.. plan.FileItems] },
            };
            AppendToArray(ops, "/spec/volumes", pod.Spec?.Volumes is not null, [Node(volume)]);
        }

        foreach (var group in plan.Env.GroupBy(c => c.Container))
        {
            foreach (var replace in group.Where(c => c.ReplaceIndex is not null))
                ops.Add(PatchOperation.Replace($"{group.Key.Pointer}/env/{replace.ReplaceIndex}", Node(replace.Var)));
            var added = group.Where(c => c.ReplaceIndex is null).Select(c => Node(c.Var)).ToList();
            AppendToArray(ops, $"{group.Key.Pointer}/env", group.Key.Container.Env is not null, added);
        }

        foreach (var target in plan.FileMounts)
        {
            var mount = new V1VolumeMount { Name = InjectionPlan.FilesVolumeName, MountPath = plan.FilesDir, ReadOnlyProperty = true };
            AppendToArray(ops, $"{target.Pointer}/volumeMounts", target.Container.VolumeMounts is not null, [Node(mount)]);
        }
        return ops;
    }

    private static void AddAnnotations(V1Pod pod, InjectionPlan plan, List<PatchOperation> ops)
    {
        var wanted = new SortedDictionary<string, string>(StringComparer.Ordinal) { [AnnotationKeys.Injected] = plan.InjectedAnnotation };
        if (plan.Secret is not null)
            wanted[AnnotationKeys.ManagedSecret] = plan.Secret.Name;

        if (pod.Metadata?.Annotations is null)
        {
            var all = new JsonObject();
            foreach (var (key, value) in wanted)
                all[key] = value;
            ops.Add(PatchOperation.Add("/metadata/annotations", all));
            return;
        }
        foreach (var (key, value) in wanted)
            ops.Add(PatchOperation.Add($"/metadata/annotations/{JsonPointer.Escape(key)}", JsonValue.Create(value)));
    }

    private static void AppendToArray(List<PatchOperation> ops, string path, bool exists, List<JsonNode> items)
    {
        if (items.Count == 0)
            return;
        if (!exists)
        {
            ops.Add(PatchOperation.Add(path, new JsonArray([.. items])));
            return;
        }
        foreach (var item in items)
            ops.Add(PatchOperation.Add(path + "/-", item));
    }

    private static JsonNode Node<T>(T model) => JsonNode.Parse(KubernetesJson.Serialize(model))!;
}
