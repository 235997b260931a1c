using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using ConfigInjector.Report;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Fakes;

namespace ConfigInjector.Tests.Report;

/// <summary>
/// Bearer tokens on <c>/report</c> as anyone who reaches the port can send them: the API server's TokenReviews they
/// cause are bounded (seen at the fake API server), a full house answers 429 at once, and only tokens minted for the
/// report's audience count.
/// </summary>
public sealed class ReportTokenTests : IAsyncLifetime
{
    private ClusterEnvironment _cluster = null!;
    private WebhookServer _server = null!;

    public async Task InitializeAsync()
    {
        _cluster = await ClusterEnvironment.StartAsync();
        _cluster.Api.AddTokenFor(ReportAccess.TokenAudience, "oncall-token", "alice", "security");
        _server = await _cluster.StartReplicaAsync(settings: s => s with { ReportAccess = "group:security" });
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private async Task<HttpResponseMessage> GetAsync(string token, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/report?ref=vault-prod:secret/shop/db&output=json");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await _server.Client.SendAsync(request, cancellationToken);
    }

    private int Reviews => _cluster.Api.Count("POST tokenreviews");

    [Fact]
    public async Task Random_tokens_cost_a_bounded_number_of_reviews_a_repeated_one_costs_one_and_a_known_reader_still_gets_in()
    {
        Assert.Equal(HttpStatusCode.OK, (await GetAsync("oncall-token")).StatusCode);
        for (var i = 0; i < 10; i++)
            Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync("the-same-wrong-token")).StatusCode);
        Assert.Equal(2, Reviews);

        var flood = new List<HttpResponseMessage>();
        for (var i = 0; i < 30; i++)
            flood.Add(await GetAsync("random-" + Guid.NewGuid().ToString("N")));

        // The burst, and one more every 2 s the loop took.
        Assert.True(Reviews <= TokenReviewGate.PerClientBurst + 3, $"{Reviews} TokenReviews for 32 new tokens from one client");
        var refused = flood.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.True(refused.Count >= 30 - TokenReviewGate.PerClientBurst - 3, string.Join(",", flood.Select(r => (int)r.StatusCode)));
        Assert.All(refused, r => Assert.True(int.Parse(r.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 1));
        Assert.StartsWith("too many new bearer tokens to check; try again in ", await refused[0].Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.All(flood.Except(refused), r => Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode));
        Assert.Equal(HttpStatusCode.OK, (await GetAsync("oncall-token")).StatusCode);
    }

    [Fact]
    public async Task A_token_the_api_server_knows_but_outside_the_named_group_is_refused_again_from_the_kept_verdict()
    {
        _cluster.Api.AddTokenFor(ReportAccess.TokenAudience, "developer-token", "bob", "developers");

        using var first = await GetAsync("developer-token");
        using var again = await GetAsync("developer-token");

        Assert.Equal((HttpStatusCode.Forbidden, HttpStatusCode.Forbidden), (first.StatusCode, again.StatusCode));
        // The second answer came from the kept verdict (one review): what is kept is the refusal, not who bob is.
        Assert.Equal(1, Reviews);
    }

    [Fact]
    public async Task When_every_review_slot_is_held_by_a_slow_api_server_the_next_token_gets_429_within_a_second_or_two()
    {
        _cluster.Api.TokenReviewDelay = TimeSpan.FromSeconds(20);
        using var stop = new CancellationTokenSource();
        var held = Enumerable.Range(0, TokenReviewGate.Concurrent).Select(i => GetAsync($"slow-{i}", stop.Token)).ToList();
        await Eventually.TrueAsync(() => Reviews >= TokenReviewGate.Concurrent, "every review slot taken");

        var clock = Stopwatch.StartNew();
        using var next = await GetAsync("one-more");
        clock.Stop();

        Assert.Equal(HttpStatusCode.TooManyRequests, next.StatusCode);
        // The held reviews take 20 s: answered well before them (the gate waits a second for a slot), however loaded.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"answered after {clock.Elapsed}");
        Assert.Equal(TokenReviewGate.Concurrent, Reviews);
        await stop.CancelAsync();
        await Task.WhenAll(held.Select(h => h.ContinueWith(_ => { }, TaskScheduler.Default)));
    }

    [Fact]
    public async Task A_token_minted_for_the_api_server_is_refused_even_for_a_reader_in_the_group()
    {
        _cluster.Api.AddToken("apiserver-audience-token", "alice", "security");

        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync("apiserver-audience-token")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync("oncall-token")).StatusCode);
    }
}
