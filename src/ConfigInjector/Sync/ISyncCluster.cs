using k8s.Models;

namespace ConfigInjector.Sync;

/// <summary>
/// Everything the sync worker asks of the cluster, and nothing more: the one gateway between it and the Kubernetes
/// adapter, which implements it. Failures surface as <see cref="ClusterApiException"/>.
/// </summary>
internal interface ISyncCluster : ILeaseStore
{
    /// <summary>One page of the Secrets labelled as managed, cluster-wide.</summary>
    /// <param name="keep">What of each Secret to keep, applied as each arrives: a page never holds its items whole.</param>
    Task<ListPage<V1Secret>> ListManagedSecretsAsync(string? continueToken, int limit, Func<V1Secret, V1Secret> keep, CancellationToken cancellationToken);

    /// <summary>Changes to managed Secrets from <paramref name="resourceVersion"/> (bookmarks on); an expired version reports a 410 through <paramref name="onError"/>.</summary>
    IAsyncEnumerable<(WatchEventType Type, V1Secret Secret)> WatchManagedSecretsAsync(string resourceVersion, Action<Exception> onError, CancellationToken cancellationToken);

    Task<V1Secret> ReadSecretAsync(string namespaceName, string name, CancellationToken cancellationToken);

    /// <summary>Replaces the Secret, guarded by the resourceVersion it carries (409 when someone wrote it since).</summary>
    Task ReplaceSecretAsync(V1Secret secret, CancellationToken cancellationToken);

    /// <summary>Deletes the Secret only if it is still the object seen (its UID and resourceVersion as preconditions).</summary>
    Task DeleteSecretAsync(V1Secret secret, CancellationToken cancellationToken);

    Task<IList<V1Pod>> ListPodsAsync(string namespaceName, CancellationToken cancellationToken);

    /// <summary>One page of every pod of the cluster.</summary>
    Task<ListPage<V1Pod>> ListAllPodsAsync(string? continueToken, int limit, CancellationToken cancellationToken);

    /// <summary>Rolls the workload as <c>kubectl rollout restart</c> does; returns its metadata for the Event.</summary>
    Task<V1ObjectMeta> RestartAsync(Workload workload, DateTimeOffset restartedAt, CancellationToken cancellationToken);

    /// <summary>Whether the workload's rollout has finished, as <c>kubectl rollout status</c> decides it; a workload that is gone is finished.</summary>
    Task<bool> IsRolledOutAsync(Workload workload, CancellationToken cancellationToken);

    /// <summary>A Deployment's, StatefulSet's or DaemonSet's uid, selector and last restart stamp, or null when it is gone.</summary>
    Task<WorkloadState?> ReadWorkloadAsync(Workload workload, CancellationToken cancellationToken);

    /// <summary>The ReplicaSet, or null when it is gone.</summary>
    Task<V1ReplicaSet?> ReadReplicaSetAsync(string namespaceName, string name, CancellationToken cancellationToken);

    /// <summary>Writes an Event; a failure is logged, never thrown (an Event is no reason to stop a pass).</summary>
    Task RecordEventAsync(V1ObjectReference involved, string type, string reason, string message, CancellationToken cancellationToken);
}

/// <summary>What a restart decision needs of a workload: its uid and selector (does it own the pod?) and its template's <c>kubectl.kubernetes.io/restartedAt</c>.</summary>
internal sealed record WorkloadState(string? Uid, V1LabelSelector? Selector, string? RestartedAt);

/// <summary>One page of a paged list: its items, the list's resourceVersion, and the token of the next page (null on the last).</summary>
internal sealed record ListPage<T>(IReadOnlyList<T> Items, string? ResourceVersion, string? Continue);
