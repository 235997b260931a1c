using System.Net;
using ConfigInjector.Sync;
using k8s;
using k8s.Autorest;

namespace ConfigInjector.Kubernetes;

/// <summary>Turns Kubernetes API failures into one line; on 403 it names the permission that is missing.</summary>
internal static class KubernetesErrors
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

    /// <summary>
    /// A watch as the layers above expect it: a failure to open it (a 410 for an expired resourceVersion, a 403) comes
    /// out as <see cref="ClusterApiException"/>, like a failed list, so the informer relists or backs off alike.
    /// </summary>
    public static async IAsyncEnumerable<T> Watch<T>(IAsyncEnumerable<T> events, string resource, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var enumerator = events.GetAsyncEnumerator(cancellationToken);
        await using (enumerator.ConfigureAwait(false))
        {
            while (true)
            {
                bool more;
                try
                {
                    more = await enumerator.MoveNextAsync();
                }
                catch (HttpOperationException e)
                {
                    throw new ClusterApiException(Status(e), Describe(e, "watch", resource, null), e);
                }
                if (!more)
                    yield break;
                yield return enumerator.Current;
            }
        }
    }

    /// <summary>A watch's error event (a 410 for an expired resourceVersion, above all) as the layers above expect it.</summary>
    public static Exception WatchError(Exception e, string resource) => e is KubernetesException { Status.Code: { } code }
        ? new ClusterApiException((HttpStatusCode)code, $"Kubernetes API {code} on watch {resource}", e)
        : e;
}
