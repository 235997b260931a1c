using k8s.Models;

namespace ConfigInjector.Sync;

/// <summary>An informer over every Secret labelled <c>app.kubernetes.io/managed-by=config-injector</c>, cluster-wide.</summary>
internal static class ManagedSecretInformer
{
    private const int PageSize = 500;

    /// <param name="keep">
    /// What of each Secret to keep in memory. Anyone who may create a Secret can set the label, so what is kept of a
    /// Secret the injector did not sign must not grow with its data (see <see cref="WithoutData"/>).
    /// </param>
    public static Informer<V1Secret> Create(ISyncCluster cluster, TimeProvider time, ILogger log, Func<V1Secret, V1Secret>? keep = null, TimeSpan? silenceLimit = null, bool retain = true, Func<V1Secret, V1Secret>? storeAs = null)
    {
        var kept = keep ?? (s => s);
        // managedFields (server-side apply bookkeeping, often the larger part of the metadata) is read by nobody here;
        // an update that omits it leaves it as it is on the server.
        keep = s =>
        {
            var result = kept(s);
            result.Metadata?.ManagedFields = null;
            return result;
        };
        return new(
            "managed secrets",
            async ct =>
            {
                // Paged, as client-go lists: one answer never has to hold every Secret of the cluster.
                var items = new List<V1Secret>();
                string? next = null;
                string? resourceVersion = null;
                do
                {
                    var page = await cluster.ListManagedSecretsAsync(next, PageSize, keep, ct);
                    items.AddRange(page.Items);
                    resourceVersion ??= page.ResourceVersion;
                    next = page.Continue;
                }
                while (!string.IsNullOrEmpty(next));
                return (items, resourceVersion);
            },
            (resourceVersion, onError, ct) => Map(cluster.WatchManagedSecretsAsync(resourceVersion, onError, ct), keep),
            time,
            log,
            silenceLimit,
            retain,
            storeAs);
    }

    /// <summary>
    /// What is kept of a Secret that is not known to be the injector's: who it is and which change of it, a few hundred
    /// bytes whatever its data and annotations (anyone who may create a Secret can set the label). The worker reads it
    /// again from the API server before it acts on it.
    /// </summary>
    public static V1Secret WithoutData(V1Secret secret) =>
        new()
        {
            ApiVersion = secret.ApiVersion,
            Kind = secret.Kind,
            Metadata = new V1ObjectMeta
            {
                Name = secret.Metadata?.Name,
                NamespaceProperty = secret.Metadata?.NamespaceProperty,
                Uid = secret.Metadata?.Uid,
                ResourceVersion = secret.Metadata?.ResourceVersion,
            },
        };

    /// <summary>A copy kept by <see cref="WithoutData"/>: a Secret the injector wrote always carries its label.</summary>
    public static bool IsStub(V1Secret secret) => secret.Metadata?.Labels is null;

    private static async IAsyncEnumerable<(WatchEventType, V1Secret)> Map(IAsyncEnumerable<(WatchEventType, V1Secret)> events, Func<V1Secret, V1Secret> keep)
    {
        await foreach (var (type, secret) in events)
            yield return (type, keep(secret));
    }
}
