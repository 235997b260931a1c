using System.Net;
using ConfigInjector.Report;
using Microsoft.Extensions.Time.Testing;

namespace ConfigInjector.Tests.Report;

/// <summary>
/// The limits on new bearer tokens for <c>/report</c> that one loopback client cannot reach: 20 reviews at once then
/// 5 a second over every client together, each client with its own burst. Reviews are counted at the reviewer.
/// </summary>
public class TokenReviewGateTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-12-01T09:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly CountingReviewer _reviewer = new();

    private sealed class CountingReviewer : ITokenReviewer
    {
        public int Reviews;

        public Task<(string User, IReadOnlyList<string> Groups)?> ReviewAsync(string token, string audience, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Reviews);
            return Task.FromResult<(string, IReadOnlyList<string>)?>(("alice", ["security"]));
        }
    }

    private static IPAddress Client(int i) => new([10, 0, (byte)(i / 250), (byte)(1 + (i % 250))]);

    private static Task<TokenReviewGate.Verdict> CheckAsync(TokenReviewGate gate, string token, IPAddress client) =>
        gate.CheckAsync(token, client, (_, groups) => groups.Contains("security"), CancellationToken.None);

    [Fact]
    public async Task New_tokens_from_many_clients_are_reviewed_twenty_at_once_then_five_a_second_in_all()
    {
        using var gate = new TokenReviewGate(_reviewer, _time);

        var verdicts = new List<TokenReviewGate.Verdict>();
        for (var i = 0; i < 25; i++)
            verdicts.Add(await CheckAsync(gate, $"token-{i}", Client(i)));

        Assert.Equal(20, _reviewer.Reviews);
        Assert.All(verdicts.Take(20), v => Assert.Equal("alice", v.User));
        Assert.All(verdicts.Skip(20), v => Assert.Equal(new TokenReviewGate.Verdict(null, TimeSpan.FromMilliseconds(200)), v));
        _time.Advance(TimeSpan.FromMilliseconds(200));
        Assert.Equal("alice", (await CheckAsync(gate, "token-late", Client(100))).User);
        Assert.NotNull((await CheckAsync(gate, "token-later", Client(101))).RetryAfter);
        Assert.Equal(21, _reviewer.Reviews);
    }

    [Fact]
    public async Task One_clients_burst_spent_leaves_the_others_theirs()
    {
        using var gate = new TokenReviewGate(_reviewer, _time);

        for (var i = 0; i < TokenReviewGate.PerClientBurst; i++)
            Assert.Equal("alice", (await CheckAsync(gate, $"token-{i}", Client(0))).User);
        var refused = await CheckAsync(gate, "one-more", Client(0));
        var another = await CheckAsync(gate, "another-clients", Client(1));

        Assert.Equal(new TokenReviewGate.Verdict(null, TokenReviewGate.PerClientEvery), refused);
        Assert.Equal("alice", another.User);
        Assert.Equal(TokenReviewGate.PerClientBurst + 1, _reviewer.Reviews);
    }
}
