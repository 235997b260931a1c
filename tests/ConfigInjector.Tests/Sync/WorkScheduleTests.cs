using ConfigInjector.Sync;
using Microsoft.Extensions.Time.Testing;

namespace ConfigInjector.Tests.Sync;

/// <summary>The sync worker's due-queue on a fake clock: what comes due when, once per key, and held while being worked on.</summary>
public class WorkScheduleTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    [Fact]
    public void A_key_comes_due_after_its_delay_and_once_however_often_it_was_added()
    {
        var schedule = new WorkSchedule<string>(_time);
        schedule.AddIfAbsent("shop/a", TimeSpan.FromMinutes(5));
        schedule.AddIfAbsent("shop/a", TimeSpan.Zero);      // already queued: the first delay stands

        Assert.Empty(schedule.TakeDue(TimeSpan.FromSeconds(30)));
        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(["shop/a"], schedule.TakeDue(TimeSpan.FromSeconds(30)));
        Assert.Equal(1, schedule.Count);
    }

    [Fact]
    public void A_key_handed_out_is_held_back_until_rescheduled_or_the_hold_ends()
    {
        var schedule = new WorkSchedule<string>(_time);
        schedule.AddIfAbsent("shop/a", TimeSpan.Zero);

        Assert.Single(schedule.TakeDue(TimeSpan.FromSeconds(30)));
        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.Empty(schedule.TakeDue(TimeSpan.FromSeconds(30)));     // the pass failed: not retried every tick
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Single(schedule.TakeDue(TimeSpan.FromSeconds(30)));

        schedule.Schedule("shop/a", TimeSpan.FromMinutes(5));          // the pass succeeded: next due in an interval
        _time.Advance(TimeSpan.FromMinutes(4));
        Assert.Empty(schedule.TakeDue(TimeSpan.FromSeconds(30)));
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Single(schedule.TakeDue(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void A_forgotten_key_never_comes_due()
    {
        var schedule = new WorkSchedule<string>(_time);
        schedule.AddIfAbsent("shop/a", TimeSpan.Zero);
        schedule.AddIfAbsent("shop/b", TimeSpan.Zero);

        schedule.Forget("shop/a");

        Assert.Equal(["shop/b"], schedule.TakeDue(TimeSpan.FromSeconds(30)));
        Assert.Equal(1, schedule.Count);
    }

    [Fact]
    public void Failed_work_backs_off_per_key_doubling_up_to_the_cap_and_success_resets_it()
    {
        var schedule = new WorkSchedule<string>(_time);
        var first = TimeSpan.FromSeconds(30);
        var cap = TimeSpan.FromMinutes(3);

        var delays = Enumerable.Range(0, 5).Select(_ => schedule.Retry("shop/a", first, cap)).ToList();
        schedule.Retry("shop/b", first, cap);                          // another key starts from the first delay

        Assert.Equal([30, 60, 120, 180, 180], delays.Select(d => d.TotalSeconds));
        _time.Advance(first);
        Assert.Equal(["shop/b"], schedule.TakeDue(TimeSpan.FromSeconds(30)));   // shop/a waits its 3 minutes

        schedule.Schedule("shop/a", TimeSpan.FromMinutes(5));             // it succeeded: the next failure starts over
        Assert.Equal(first, schedule.Retry("shop/a", first, cap));
    }

    [Fact]
    public void At_most_the_limit_is_handed_out_per_take_the_longest_waiting_first()
    {
        var schedule = new WorkSchedule<string>(_time);
        schedule.AddIfAbsent("shop/late", TimeSpan.FromSeconds(3));
        schedule.AddIfAbsent("shop/early", TimeSpan.FromSeconds(1));
        schedule.AddIfAbsent("shop/middle", TimeSpan.FromSeconds(2));
        _time.Advance(TimeSpan.FromSeconds(3));

        Assert.Equal(["shop/early", "shop/middle"], schedule.TakeDue(TimeSpan.FromSeconds(30), limit: 2));
        Assert.Equal(["shop/late"], schedule.TakeDue(TimeSpan.FromSeconds(30), limit: 2));
    }
}
