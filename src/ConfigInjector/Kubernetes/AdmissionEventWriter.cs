using ConfigInjector.Observability;
using k8s.Models;

namespace ConfigInjector.Kubernetes;

/// <summary>
/// Writes admission's Events off the admission path. <see cref="Record"/> never waits: a first sighting is queued for
/// a create, a repeat only counts (<see cref="RepeatedEvents"/>); every <see cref="KubernetesTimings.EventCountEvery"/>
/// the Events with new repeats are queued for one merge patch of their count and last time. The queue is bounded and
/// takes turns between namespaces (<see cref="FairQueue{T}"/>); what does not fit is dropped and counted
/// (<c>configinjector_event_writes_dropped_total</c>), and a count that was dropped is tried again at the next round.
/// </summary>
internal sealed partial class AdmissionEventWriter(EventRecorder recorder, KubernetesTimings timings, TimeProvider time, InjectorMetrics metrics, ILogger<AdmissionEventWriter> log)
    : BackgroundService
{
    public const int RememberedEvents = 4096;
    public const int MessagesPerObject = 10;
    public const int QueueCapacity = 1024;
    public const int QueuePerNamespace = 64;
    private const int Writers = 2;

    private readonly Lock _lock = new();
    private readonly RepeatedEvents _repeats = new(RememberedEvents, MessagesPerObject, timings.EventRepeatWindow);
    private readonly FairQueue<RepeatedEvents.Entry> _queue = new(QueueCapacity, QueuePerNamespace);
    private readonly SemaphoreSlim _ready = new(0);
    private long _droppedSinceLog;
    private DateTimeOffset _lastDropLog = DateTimeOffset.MinValue;

    public void Record(V1ObjectReference involved, string reason, string message)
    {
        lock (_lock)
        {
            var (entry, isNew) = _repeats.Observe(involved, reason, message, time.GetUtcNow());
            if (isNew)
                Enqueue(entry);
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll([CountLoopAsync(stoppingToken), .. Enumerable.Range(0, Writers).Select(_ => WriteLoopAsync(stoppingToken))]);

    public override void Dispose()
    {
        _ready.Dispose();
        base.Dispose();
    }

    private async Task CountLoopAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(timings.EventCountEvery, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            lock (_lock)
            {
                foreach (var entry in _repeats.Dirty(time.GetUtcNow()))
                    Enqueue(entry);
            }
        }
    }

    private async Task WriteLoopAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _ready.WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            RepeatedEvents.Entry? entry;
            (int Seen, string Message, DateTimeOffset Last, string? Name) snapshot;
            lock (_lock)
            {
                if (!_queue.TryDequeue(out entry))
                    continue;
                snapshot = (entry.Seen, entry.Message, entry.Last, entry.Name);
            }
            var name = await WriteAsync(entry, snapshot.Seen, snapshot.Message, snapshot.Last, snapshot.Name, stoppingToken);
            lock (_lock)
            {
                // A failed write is not retried until the next sighting: an Event is never worth a retry storm.
                entry.Written = snapshot.Seen;
                entry.Name = name;
                entry.Queued = false;
            }
        }
    }

    /// <summary>Returns the Event's name, or null when there is none to update next time.</summary>
    private async Task<string?> WriteAsync(RepeatedEvents.Entry entry, int seen, string message, DateTimeOffset last, string? name, CancellationToken cancellationToken)
    {
        if (name is not null)
        {
            var update = await recorder.UpdateCountAsync(entry.Involved, name, entry.Reason, message, seen, last.UtcDateTime, cancellationToken);
            if (update != EventRecorder.Update.Gone)
                return name;
        }
        return await recorder.CreateAsync(entry.Involved, "Warning", entry.Reason, message, seen, entry.First.UtcDateTime, last.UtcDateTime, cancellationToken);
    }

    /// <summary>Called under the lock.</summary>
    private void Enqueue(RepeatedEvents.Entry entry)
    {
        if (_queue.TryEnqueue(entry.Involved.NamespaceProperty ?? "", entry))
        {
            entry.Queued = true;
            _ready.Release();
            return;
        }
        metrics.EventWritesDropped.Inc();
        _droppedSinceLog++;
        var now = time.GetUtcNow();
        if (now - _lastDropLog < TimeSpan.FromMinutes(1))
            return;
        LogDropped(log, _droppedSinceLog, entry.Involved.NamespaceProperty ?? "", QueueCapacity, QueuePerNamespace);
        _droppedSinceLog = 0;
        _lastDropLog = now;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "admission Events: {Dropped} writes dropped, the queue is full (namespace {Namespace} among them; at most {Capacity} queued, {PerNamespace} per namespace); see configinjector_event_writes_dropped_total")]
    private static partial void LogDropped(ILogger logger, long dropped, string @namespace, int capacity, int perNamespace);
}
