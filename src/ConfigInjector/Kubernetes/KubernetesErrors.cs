using System.Net;
using k8s.Autorest;

namespace ConfigInjector.Kubernetes;

/// <summary>Turns Kubernetes API failures into one line; on 403 it names the permission that is missing.</summary>
public static class KubernetesErrors
{
    public static HttpStatusCode? Status(Exception e) => (e as HttpOperationException)?.Response?.StatusCode;

    public static bool IsConflict(Exception e) => Status(e) == HttpStatusCode.Conflict;

    public static bool IsNotFound(Exception e) => Status(e) == HttpStatusCode.NotFound;

    public static string Describe(Exception e, string verb, string resource, string? @namespace)
    {
        var status = Status(e);
        var where = @namespace is null ? "cluster-wide" : $"in namespace {@namespace}";
        return status switch
        {
            HttpStatusCode.Forbidden => $"Kubernetes API 403: the service account may not {verb} {resource} {where} (add it to the ClusterRole, see README \"RBAC\")",
            { } code => $"Kubernetes API {(int)code} on {verb} {resource} {where}",
            null => $"Kubernetes API unreachable on {verb} {resource} {where}: {e.Message.Split('\n')[0]}",
        };
    }
}
