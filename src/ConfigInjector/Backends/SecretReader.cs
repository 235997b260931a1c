using System.Diagnostics;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;
using ConfigInjector.Observability;

namespace ConfigInjector.Backends;

/// <summary>
/// Reads one location from its backend, bounded by a timeout well under the API server's webhook timeout,
/// with metrics. Failures become <see cref="SecretRead"/> values with a one-line reason. Requests in flight to one
/// backend are shared fairly among the tenants (namespaces) that ask (<see cref="FairSlots"/>).
/// </summary>
internal sealed class SecretReader(IReadOnlyDictionary<string, ISecretBackend> backends, InjectorMetrics metrics, TimeSpan timeout)
{
    /// <summary>Requests in flight to one backend from this process, whatever the number of admissions waiting.</summary>
    public const int ConcurrentReadsPerBackend = 32;

    /// <summary>The tenant of reads no namespace asked for: the sync worker, the report, the CLI.</summary>
    public const string System = "";

    private readonly Dictionary<string, FairSlots> _slots = backends.Keys.ToDictionary(k => k, _ => new FairSlots(ConcurrentReadsPerBackend), StringComparer.Ordinal);

    /// <summary>How long one read may take, waiting for a slot included.</summary>
    public TimeSpan Timeout => timeout;

    public FairSlots? SlotsFor(string backend) => _slots.GetValueOrDefault(backend);

    /// <summary>Whether reads of <paramref name="backend"/> are made as the pod's service account (<c>identity: pod</c>).</summary>
    public bool ReadsAsPod(string backend) => backends.GetValueOrDefault(backend) is IReadsAsServiceAccount;

    /// <summary>The key a read of <paramref name="location"/> for <paramref name="pod"/> is cached and coalesced under.</summary>
    public ReadKey KeyFor(SecretLocation location, Subject? pod) => new(location, pod is not null && ReadsAsPod(location.Backend) ? pod : null);

    public Task<SecretRead> ReadAsync(SecretLocation location, CancellationToken cancellationToken, string tenant = System) =>
        ReadAsync(new ReadKey(location, null), (slots, token) => slots.AcquireAsync(tenant, token), cancellationToken);

    /// <summary>A read as <see cref="ReadKey.As"/> when its backend has <c>identity: pod</c>, in that namespace's queue.</summary>
    public Task<SecretRead> ReadAsync(ReadKey key, CancellationToken cancellationToken) =>
        ReadAsync(key, (slots, token) => slots.AcquireAsync(key.As?.Namespace ?? System, token), cancellationToken);

    /// <param name="acquire">Takes one of the backend's slots; the time it waits counts against the read's timeout.</param>
    public async Task<SecretRead> ReadAsync(ReadKey key, Func<FairSlots, CancellationToken, Task<IDisposable>> acquire, CancellationToken cancellationToken)
    {
        var location = key.Location;
        if (!backends.TryGetValue(location.Backend, out var backend))
            return SecretRead.Failed(location, $"backend \"{location.Backend}\" is not configured");

        using var span = BackendTracing.StartRead(key);
        using var timer = new CancellationTokenSource(timeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        var started = Stopwatch.GetTimestamp();
        SecretRead read;
        var slots = _slots[location.Backend];
        try
        {
            using (await acquire(slots, linked.Token))
                read = key.As is { } pod && backend is IReadsAsServiceAccount asPod
                    ? await asPod.ReadAsAsync(location, pod, linked.Token)
                    : await backend.ReadAsync(location, linked.Token);
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            read = SecretRead.Failed(location, $"timed out after {timeout.TotalSeconds:0.#}s");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            read = SecretRead.Failed(location, OneLine(e));
        }
        BackendTracing.EndRead(span, read);
        metrics.BackendDuration.WithLabels(location.Backend).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        metrics.BackendRequests.WithLabels(location.Backend, read.Status switch
        {
            ReadStatus.Found => "found",
            ReadStatus.NotFound => "not_found",
            ReadStatus.Refused => "refused",
            _ => "error",
        }).Inc();
        return read;
    }

    private static string OneLine(Exception e) => $"{e.GetType().Name}: {e.Message.Split('\n')[0].Trim()}";
}
