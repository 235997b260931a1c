using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using ConfigInjector.Sync;
using k8s;
using k8s.Models;

namespace ConfigInjector.Kubernetes;

/// <summary>
/// A watch over the API server's streaming protocol, which the AOT build of the Kubernetes client does not wrap: a GET
/// of the collection with <c>watch=true</c>, answered with one JSON object per line,
/// <c>{"type": "ADDED|MODIFIED|DELETED|BOOKMARK|ERROR", "object": ...}</c>, until the server ends it
/// (https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes).
/// </summary>
internal static class WatchStream
{
    /// <summary>
    /// Events from <paramref name="resourceVersion"/> on, with bookmarks. A failure to open the watch throws a
    /// <see cref="ClusterApiException"/> like a failed list; an ERROR event (a 410 for an expired resourceVersion above
    /// all) goes to <paramref name="onError"/> as one, and ends the stream, as the server does.
    /// </summary>
    public static async IAsyncEnumerable<(WatchEventType Type, T Item)> ReadAsync<T>(
        IKubernetes client,
        string collectionPath,
        string resource,
        string resourceVersion,
        string? labelSelector,
        Func<JsonElement, T> parse,
        Action<Exception> onError,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var response = await RawRequest.SendAsync(client, WatchUri(collectionPath, resourceVersion, labelSelector), "watch", resource, cancellationToken);
        using var stream = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken), Encoding.UTF8);
        var reader = new BoundedLineReader(stream, resource);
        while (await ReadLineAsync(reader, resource, cancellationToken) is { } line)
        {
            if (line.Length == 0)
                continue;
            using var document = JsonDocument.Parse(line);
            var type = document.RootElement.GetProperty("type").GetString();
            var item = document.RootElement.GetProperty("object");
            if (type == "ERROR")
            {
                var status = KubernetesJson.Deserialize<V1Status>(item);
                onError(new ClusterApiException(status.Code is { } code ? (HttpStatusCode)code : null,
                    $"Kubernetes API {status.Code} on watch {resource}: {status.Reason}"));
                yield break;
            }
            yield return (EventType(type, resource), parse(item));
        }
    }

    private static WatchEventType EventType(string? type, string resource) => type switch
    {
        "ADDED" => WatchEventType.Added,
        "MODIFIED" => WatchEventType.Modified,
        "DELETED" => WatchEventType.Deleted,
        "BOOKMARK" => WatchEventType.Bookmark,
        _ => throw new ClusterApiException(null, $"Kubernetes API sent a watch event of unknown type '{type}' on {resource}"),
    };

    private static string WatchUri(string collectionPath, string resourceVersion, string? labelSelector)
    {
        var uri = new StringBuilder(collectionPath)
            .Append("?watch=true&allowWatchBookmarks=true&resourceVersion=").Append(Uri.EscapeDataString(resourceVersion));
        if (labelSelector is not null)
            uri.Append("&labelSelector=").Append(Uri.EscapeDataString(labelSelector));
        return uri.ToString();
    }

    // A connection cut mid-stream fails like a failed list: the informer watches again after its backoff.
    private static async Task<string?> ReadLineAsync(BoundedLineReader reader, string resource, CancellationToken cancellationToken)
    {
        try
        {
            return await reader.ReadLineAsync(cancellationToken);
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            throw new ClusterApiException(null, KubernetesErrors.Describe(null, e.Message, "watch", resource, null), e);
        }
    }
}
