using ConfigInjector.Kubernetes;

namespace ConfigInjector.Tests.Kubernetes;

public sealed class FairQueueTests
{
    [Fact]
    public void A_flooding_key_fills_only_its_share_and_another_key_is_served_at_its_next_turn()
    {
        var queue = new FairQueue<string>(capacity: 100, perKey: 10);

        var accepted = Enumerable.Range(0, 1000).Count(i => queue.TryEnqueue("flood", $"f{i}"));
        Assert.True(queue.TryEnqueue("quiet", "q0"));

        Assert.Equal(10, accepted);
        Assert.True(queue.TryDequeue(out var first));
        Assert.True(queue.TryDequeue(out var second));
        Assert.Equal(("f0", "q0"), (first, second));
    }

    [Fact]
    public void The_whole_queue_is_bounded_across_keys()
    {
        var queue = new FairQueue<int>(capacity: 50, perKey: 10);

        var accepted = Enumerable.Range(0, 1000).Count(i => queue.TryEnqueue($"ns-{i % 20}", i));

        Assert.Equal(50, accepted);
        Assert.Equal(50, queue.Count);
        var drained = 0;
        while (queue.TryDequeue(out _))
            drained++;
        Assert.Equal(50, drained);
        Assert.True(queue.TryEnqueue("ns-0", 1));
    }
}
