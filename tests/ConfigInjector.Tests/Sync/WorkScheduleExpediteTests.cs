using ConfigInjector.Sync;
using Microsoft.Extensions.Time.Testing;

namespace ConfigInjector.Tests.Sync;

/// <summary>A refresh request on the due-queue (fake clock): sooner, never later, and not lost to the pass in flight.</summary>
public class WorkScheduleExpediteTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    [Fact]
    public void A_request_during_the_pass_outlives_the_interval_the_pass_then_schedules()
    {
        var schedule = new WorkSchedule<string>(_time);
        schedule.AddIfAbsent("shop/a", TimeSpan.Zero);
        Assert.Single(schedule.TakeDue(TimeSpan.FromSeconds(30)));

        // The pass read the refs; the request arrives before it reports back.
        schedule.Expedite("shop/a", _time.GetUtcNow() + TimeSpan.FromSeconds(2));
        schedule.Schedule("shop/a", TimeSpan.FromHours(1));

        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Single(schedule.TakeDue(TimeSpan.FromSeconds(30)));
        // Served: the next outcome is the interval again.
        schedule.Schedule("shop/a", TimeSpan.FromHours(1));
        _time.Advance(TimeSpan.FromMinutes(59));
        Assert.Empty(schedule.TakeDue(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void A_request_never_puts_off_a_key_already_due_sooner()
    {
        var schedule = new WorkSchedule<string>(_time);
        schedule.AddIfAbsent("shop/a", TimeSpan.FromSeconds(1));
        schedule.Expedite("shop/a", _time.GetUtcNow() + TimeSpan.FromSeconds(2));

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Single(schedule.TakeDue(TimeSpan.FromSeconds(30)));
    }
}
