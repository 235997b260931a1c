using ConfigInjector.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace ConfigInjector.Tests.Hosting;

/// <summary>
/// The trim after a burst: one collection once the process goes quiet after allocating a lot; none while traffic
/// goes on (a pause there would cost admissions), none again while nothing new was allocated.
/// </summary>
public class IdleMemoryTrimTests
{
    private sealed class Process
    {
        public long Allocated;
        public int Collections;
    }

    private static async Task<(FakeTimeProvider Time, Process Process, IdleMemoryTrim Trim)> StartAsync()
    {
        var time = new FakeTimeProvider();
        var process = new Process();
        var trim = new IdleMemoryTrim(time, NullLogger<IdleMemoryTrim>.Instance, () => Volatile.Read(ref process.Allocated), () => process.Collections++);
        await trim.StartAsync(CancellationToken.None);
        return (time, process, trim);
    }

    private static async Task PeriodAsync(FakeTimeProvider time, Process process, IdleMemoryTrim trim, long allocated)
    {
        Interlocked.Add(ref process.Allocated, allocated);
        var checks = trim.Checks;
        time.Advance(IdleMemoryTrim.Period);
        // The timer's continuation may run on the thread pool: wait until the period has been looked at.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (trim.Checks == checks)
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(10), "the trim never looked at the period");
            await Task.Delay(5);
        }
    }

    [Fact]
    public async Task A_burst_then_quiet_is_trimmed_once()
    {
        var (time, process, trim) = await StartAsync();
        for (var i = 0; i < 4; i++)
            await PeriodAsync(time, process, trim, 40L << 20);
        Assert.Equal(0, process.Collections);

        await PeriodAsync(time, process, trim, 0);
        Assert.Equal(1, process.Collections);

        for (var i = 0; i < 10; i++)
            await PeriodAsync(time, process, trim, 1L << 20);
        Assert.Equal(1, process.Collections);
        await trim.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Steady_traffic_is_never_paused()
    {
        var (time, process, trim) = await StartAsync();
        for (var i = 0; i < 30; i++)
            await PeriodAsync(time, process, trim, 10L << 20);
        Assert.Equal(0, process.Collections);
        await trim.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_small_trickle_after_a_trim_does_not_trim_again_until_another_burst()
    {
        var (time, process, trim) = await StartAsync();
        await PeriodAsync(time, process, trim, 100L << 20);
        await PeriodAsync(time, process, trim, 0);
        Assert.Equal(1, process.Collections);

        await PeriodAsync(time, process, trim, 100L << 20);
        await PeriodAsync(time, process, trim, 0);
        Assert.Equal(2, process.Collections);
        await trim.StopAsync(CancellationToken.None);
    }
}
