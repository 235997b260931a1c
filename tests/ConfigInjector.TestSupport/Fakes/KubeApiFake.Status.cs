using System.Text.Json.Nodes;

namespace ConfigInjector.TestSupport.Fakes;

/// <summary>
/// The status subresource, as the API server serves it for a custom resource whose CRD enables it
/// (https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#status-subresource):
/// - PUT and PATCH to <c>/status</c> ignore changes to anything but the status stanza;
/// - POST, PUT and PATCH to the resource itself ignore changes to the status stanza;
/// - metadata.generation moves with every change except to metadata and status;
/// - an update without metadata.resourceVersion is refused (422: custom resources allow no unconditional update),
///   a stale one gets 409 Conflict, like any update.
/// Built-in kinds with a status (pods, workloads, namespaces) keep status apart the same way; their generation moves
/// with spec as before. Any other subresource, or <c>/status</c> of a kind without one, is 404.
/// </summary>
public sealed partial class KubeApiFake
{
    private static readonly HashSet<string> CustomResources = ["secretpolicies", "configprofiles"];

    private static readonly HashSet<string> WithStatus = [.. CustomResources, "pods", "namespaces", "deployments", "statefulsets", "daemonsets", "replicasets", "jobs", "cronjobs"];

    private static bool HasSubresource(Route route) => route.Subresource == "status" && route.Name is not null && WithStatus.Contains(route.Resource);

    /// <summary>A write to the object itself: the stored status stays (none on create), whatever was sent.</summary>
    private static void KeepStatus(string resource, JsonObject written, JsonObject? stored)
    {
        if (!WithStatus.Contains(resource))
            return;
        written.Remove("status");
        if (stored?["status"] is { } status)
            written["status"] = status.DeepClone();
    }

    /// <summary>A write to <c>/status</c>: the stored object with the sent status, and nothing else of what was sent.</summary>
    private static JsonObject OnlyStatus(JsonObject stored, JsonObject sent)
    {
        var result = (JsonObject)stored.DeepClone();
        result.Remove("status");
        if (sent["status"] is { } status)
            result["status"] = status.DeepClone();
        return result;
    }

    private static bool GenerationMoves(string resource, JsonObject previous, JsonObject next)
    {
        if (!CustomResources.Contains(resource))
            return !JsonNode.DeepEquals(previous["spec"], next["spec"]);
        return !JsonNode.DeepEquals(Content(previous), Content(next));

        // What the object says beyond its type, metadata and status.
        static JsonObject Content(JsonObject item)
        {
            var copy = (JsonObject)item.DeepClone();
            foreach (var key in (string[])["apiVersion", "kind", "metadata", "status"])
                copy.Remove(key);
            return copy;
        }
    }
}
