using System.Net;
using ConfigInjector.Sync;
using k8s.Autorest;

namespace ConfigInjector.Kubernetes;

/// <summary>Turns Kubernetes API failures into one line; on 403 it names the permission that is missing.</summary>
internal static class KubernetesErrors
{
    public static HttpStatusCode? Status(Exception e) => (e as HttpOperationException)?.Response?.StatusCode;

    public static bool IsConflict(Exception e) => Status(e) == HttpStatusCode.Conflict;

    public static bool IsNotFound(Exception e) => Status(e) == HttpStatusCode.NotFound;

    public static string Describe(Exception e, string verb, string resource, string? @namespace) =>
        Describe(Status(e), e.Message, verb, resource, @namespace);

    public static string Describe(HttpStatusCode? status, string? error, string verb, string resource, string? @namespace)
    {
        var where = @namespace is null ? "cluster-wide" : $"in namespace {@namespace}";
        return status switch
        {
            HttpStatusCode.Forbidden => $"Kubernetes API 403: the service account may not {verb} {resource} {where} (add it to the ClusterRole, see README \"RBAC\")",
            { } code => $"Kubernetes API {(int)code} on {verb} {resource} {where}",
            null => $"Kubernetes API unreachable on {verb} {resource} {where}: {error?.Split('\n')[0]}",
        };
    }

    /// <summary>Runs one API call, reporting its failure the way the layers above expect it.</summary>
    public static async Task<T> Call<T>(Func<Task<T>> call, string verb, string resource, string? @namespace)
    {
        try
        {
            return await call();
        }
        catch (HttpOperationException e)
        {
            throw new ClusterApiException(Status(e), Describe(e, verb, resource, @namespace), e);
        }
    }
}
