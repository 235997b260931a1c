namespace ConfigInjector.Hosting;

/// <summary>
/// Gives memory back after a burst. The GC sizes its budgets for the rate it last saw and collects only when
/// something allocates, so after a rollout of thousands of pods (or a new leader's first list of every managed
/// Secret) an idle replica would hold the heap of its busiest second until the next burst. Once the process has gone
/// quiet after allocating a lot, one compacting collection in aggressive mode returns what the burst left to the
/// system (bench/ cluster-scale measures it). Steady traffic is never interrupted: a busy process is not trimmed.
/// </summary>
internal sealed partial class IdleMemoryTrim(TimeProvider time, ILogger<IdleMemoryTrim> log, Func<long>? allocatedBytes = null, Action? collect = null) : BackgroundService
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(5);

    /// <summary>Allocated since the last trim before another is worth a pause: a few thousand admissions' worth.</summary>
    public const long BurstBytes = 64L << 20;

    /// <summary>Allocated over one period that still counts as quiet: a couple of hundred admissions.</summary>
    public const long QuietBytesPerPeriod = 4L << 20;

    private readonly Func<long> _allocatedBytes = allocatedBytes ?? (() => GC.GetTotalAllocatedBytes());
    private readonly long _allocatedAtStart = (allocatedBytes ?? (() => GC.GetTotalAllocatedBytes()))();
    private readonly Action _collect = collect ?? (() => GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true));

    // Made with the service, not when ExecuteAsync starts on its background thread, so the first period counts from here.
    private readonly PeriodicTimer _timer = new(Period, time);
    private int _checks;

    /// <summary>Periods looked at so far (tests wait on it).</summary>
    public int Checks => Volatile.Read(ref _checks);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var atLastTrim = _allocatedAtStart;
        var atLastCheck = atLastTrim;
        try
        {
            while (await _timer.WaitForNextTickAsync(stoppingToken))
            {
                var allocated = _allocatedBytes();
                Interlocked.Increment(ref _checks);
                var quiet = allocated - atLastCheck < QuietBytesPerPeriod;
                atLastCheck = allocated;
                var sinceTrim = allocated - atLastTrim;
                if (!quiet || sinceTrim < BurstBytes)
                    continue;
                var before = Environment.WorkingSet;
                _collect();
                atLastTrim = atLastCheck = _allocatedBytes();
                LogTrimmed(log, sinceTrim >> 20, before >> 20, Environment.WorkingSet >> 20);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override void Dispose()
    {
        _timer.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "quiet after a burst: memory trimmed, working set {Before} MiB → {After} MiB ({Allocated} MiB allocated since the last trim)")]
    private static partial void LogTrimmed(ILogger logger, long allocated, long before, long after);
}
