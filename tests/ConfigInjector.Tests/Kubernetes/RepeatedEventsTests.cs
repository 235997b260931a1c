using ConfigInjector.Kubernetes;
using k8s.Models;

namespace ConfigInjector.Tests.Kubernetes;

/// <summary>The correlator's memory: repeats within the window are one entry, distinct messages are capped per object, and the whole is bounded.</summary>
public sealed class RepeatedEventsTests
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static V1ObjectReference Owner(string ns, string name) =>
        new() { ApiVersion = "apps/v1", Kind = "ReplicaSet", Name = name, Uid = $"{ns}-{name}-uid", NamespaceProperty = ns };

    [Fact]
    public void A_repeat_within_the_window_of_the_last_sighting_counts_and_a_later_one_starts_afresh()
    {
        var repeats = new RepeatedEvents(100, 10, TimeSpan.FromMinutes(10));

        var first = repeats.Observe(Owner("shop", "web"), "InjectionDenied", "no", T0);
        var again = repeats.Observe(Owner("shop", "web"), "InjectionDenied", "no", T0.AddMinutes(9));
        var stillSame = repeats.Observe(Owner("shop", "web"), "InjectionDenied", "no", T0.AddMinutes(18));
        var fresh = repeats.Observe(Owner("shop", "web"), "InjectionDenied", "no", T0.AddMinutes(29));

        Assert.True(first.IsNew);
        Assert.Equal((false, false), (again.IsNew, stillSame.IsNew));
        Assert.Same(first.Entry, stillSame.Entry);
        Assert.Equal(3, first.Entry.Seen);
        Assert.True(fresh.IsNew);
        Assert.NotSame(first.Entry, fresh.Entry);
    }

    [Fact]
    public void Another_reason_message_or_object_is_another_event()
    {
        var repeats = new RepeatedEvents(100, 10, TimeSpan.FromMinutes(10));

        repeats.Observe(Owner("shop", "web"), "InjectionDenied", "no", T0);

        Assert.True(repeats.Observe(Owner("shop", "web"), "InjectionWarning", "no", T0).IsNew);
        Assert.True(repeats.Observe(Owner("shop", "web"), "InjectionDenied", "other", T0).IsNew);
        Assert.True(repeats.Observe(Owner("shop", "api"), "InjectionDenied", "no", T0).IsNew);
        Assert.True(repeats.Observe(Owner("bank", "web"), "InjectionDenied", "no", T0).IsNew);
    }

    [Fact]
    public void Past_the_cap_of_messages_for_one_object_further_messages_are_combined_into_one_event_showing_the_latest()
    {
        var repeats = new RepeatedEvents(100, 10, TimeSpan.FromMinutes(10));

        var news = Enumerable.Range(0, 30).Count(i => repeats.Observe(Owner("shop", "web"), "InjectionDenied", $"internal error {i}", T0).IsNew);
        var combined = repeats.Observe(Owner("shop", "web"), "InjectionDenied", "internal error last", T0).Entry;

        Assert.Equal(11, news);
        Assert.Equal(RepeatedEvents.CombinedPrefix + "internal error last", combined.Message);
        Assert.Equal(21, combined.Seen);
        // A message seen before the cap still counts onto its own Event.
        Assert.False(repeats.Observe(Owner("shop", "web"), "InjectionDenied", "internal error 3", T0).IsNew);
    }

    [Fact]
    public void Endless_distinct_owners_cost_bounded_memory_the_least_recently_seen_going_first()
    {
        var repeats = new RepeatedEvents(1000, 10, TimeSpan.FromMinutes(10));
        var shop = repeats.Observe(Owner("shop", "web"), "InjectionDenied", "no", T0).Entry;

        for (var i = 0; i < 100_000; i++)
        {
            repeats.Observe(Owner("tenant", $"rs-{i}"), "InjectionDenied", "no", T0);
            if (i % 500 == 0)
                repeats.Observe(Owner("shop", "web"), "InjectionDenied", "no", T0);
        }

        Assert.Equal(1000, repeats.Count);
        // Seen again and again, it stayed: one entry counting every sighting.
        Assert.Same(shop, repeats.Observe(Owner("shop", "web"), "InjectionDenied", "no", T0).Entry);
        Assert.Equal(202, shop.Seen);
        Assert.True(repeats.Observe(Owner("tenant", "rs-0"), "InjectionDenied", "no", T0).IsNew);
    }
}
