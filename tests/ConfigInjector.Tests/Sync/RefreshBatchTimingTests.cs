using ConfigInjector.Core.Annotations;
using ConfigInjector.Sync;
using k8s.Models;
using Microsoft.Extensions.Time.Testing;

namespace ConfigInjector.Tests.Sync;

/// <summary>
/// When the leader serves refresh requests (fake clock, the leader's loop played by hand: a pass, then the sleep
/// <see cref="RefreshRequests.UntilNextPass"/> gives): requests within a window of the first share one batch; the loop
/// wakes when that batch is due instead of at the tick after it; and a request made while a batch is being served is
/// served by the next one, not lost to the interval the pass schedules.
/// </summary>
public sealed class RefreshBatchTimingTests
{
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(2);

    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly RefreshRequests _requests;
    private DateTimeOffset _lastPass;
    private int _asked;

    public RefreshBatchTimingTests() => _requests = new RefreshRequests(_time, Window);

    [Fact]
    public void A_lone_requests_batch_is_served_when_it_is_due_not_at_the_tick_after()
    {
        // The loop passes and falls asleep for a tick; 300 ms into it, a request: its batch is due a window later.
        Assert.Equal(Tick, PassThenSleep());
        _time.Advance(TimeSpan.FromMilliseconds(300));
        var due = Ask("a");
        Assert.Equal(_time.GetUtcNow() + Window, due);
        _time.Advance(TimeSpan.FromMilliseconds(700));

        // A tick, then only as long as the batch still needs: it is served 2.0 s after the request, not 2.7 s.
        Assert.Equal(Tick, PassThenSleep());
        _time.Advance(Tick);
        Assert.Equal(TimeSpan.FromMilliseconds(300), PassThenSleep());
        _time.Advance(TimeSpan.FromMilliseconds(300));
        Assert.Equal(due, _time.GetUtcNow());
        // That pass serves it: idle again, a tick at a time.
        Assert.Equal(Tick, PassThenSleep());
    }

    [Fact]
    public void A_pass_that_woke_just_before_the_batch_was_due_is_followed_by_another_at_once_not_a_tick_later()
    {
        var due = Ask("a");
        _time.Advance(Window - TimeSpan.FromMilliseconds(1));
        _lastPass = _time.GetUtcNow();
        // The pass took nothing (the batch was 1 ms away) and its own work ran past the batch's time.
        _time.Advance(TimeSpan.FromMilliseconds(20));
        Assert.True(_time.GetUtcNow() > due);

        Assert.Equal(TimeSpan.Zero, _requests.UntilNextPass(Tick, _lastPass));
        Assert.Equal(Tick, PassThenSleep());
    }

    [Fact]
    public void Requests_within_the_window_share_the_first_ones_batch_and_a_later_one_opens_the_next()
    {
        var first = Ask("a");
        _time.Advance(Window - TimeSpan.FromMilliseconds(1));
        Assert.Equal(first, Ask("b"));
        Assert.Equal(first, Ask("a"));
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(_time.GetUtcNow() + Window, Ask("c"));
    }

    [Fact]
    public void A_request_made_while_its_batch_is_being_served_is_served_by_the_next_batch()
    {
        var schedule = new WorkSchedule<string>(_time);
        schedule.AddIfAbsent("shop/a", TimeSpan.FromHours(1));
        schedule.Expedite("shop/a", Ask("a"));
        _time.Advance(Window);
        _lastPass = _time.GetUtcNow();
        Assert.Equal(["shop/a"], schedule.TakeDue(TimeSpan.FromSeconds(30)));

        // The pass has read the refs; a new request arrives before it reports the Secret done for an hour.
        _time.Advance(TimeSpan.FromMilliseconds(50));
        schedule.Expedite("shop/a", Ask("a"));
        schedule.Schedule("shop/a", TimeSpan.FromHours(1));

        _time.Advance(_requests.UntilNextPass(Tick, _lastPass));
        Assert.Empty(schedule.TakeDue(TimeSpan.FromSeconds(30)));
        _time.Advance(PassThenSleep());
        Assert.Equal(["shop/a"], schedule.TakeDue(TimeSpan.FromSeconds(30)));
    }

    /// <summary>A pass begins now (it takes what is due by now); the sleep the loop then takes.</summary>
    private TimeSpan PassThenSleep()
    {
        _lastPass = _time.GetUtcNow();
        return _requests.UntilNextPass(Tick, _lastPass);
    }

    /// <summary>A new refresh value on the Secret, as <c>kubectl annotate --overwrite</c> gives it; the batch it joins.</summary>
    private DateTimeOffset Ask(string name)
    {
        var secret = new V1Secret
        {
            Metadata = new V1ObjectMeta { NamespaceProperty = "shop", Name = name, Annotations = new Dictionary<string, string> { [AnnotationKeys.Refresh] = $"ask-{++_asked}" } },
        };
        return _requests.Requested(secret, known: true) ?? throw new Xunit.Sdk.XunitException("a new refresh value asked for nothing");
    }
}
