using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace ConfigInjector.Report;

/// <summary>
/// Bearer tokens for <c>/report</c> and <c>/refresh</c> (each with its own gate and token audience), checked by the API server's TokenReview without letting whoever reaches the port
/// spend its time: a verdict, allowed or not, is kept 30 s by the token's hash (the token itself is kept nowhere), so
/// a repeated token costs no review; new tokens are reviewed at most 5 at once then one per 2 s per client address, and
/// 20 at once then 5 per second in all; at most 4 reviews run at once and a request waits 1 s for one. Past any of
/// these the caller gets a Retry-After instead of a queue.
/// </summary>
internal sealed class TokenReviewGate(ITokenReviewer reviewer, TimeProvider time, string audience = ReportAccess.TokenAudience) : IDisposable
{
    public static readonly TimeSpan VerdictKept = TimeSpan.FromSeconds(30);
    public const int PerClientBurst = 5;
    public static readonly TimeSpan PerClientEvery = TimeSpan.FromSeconds(2);
    public const int Concurrent = 4;
    private const int GlobalBurst = 20;
    private static readonly TimeSpan GlobalEvery = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan SlotWait = TimeSpan.FromSeconds(1);
    private const int KeptVerdicts = 1000;

    /// <summary>Who the token is (null: refused), or how long to wait before trying a new token.</summary>
    public readonly record struct Verdict(string? User, TimeSpan? RetryAfter);

    private readonly ConcurrentDictionary<string, (string? User, DateTimeOffset At)> _verdicts = new(StringComparer.Ordinal);
    private readonly ClientBuckets _clients = new(PerClientBurst, PerClientEvery, time);
    private readonly RateBucket _everyone = new(GlobalBurst, GlobalEvery, time);
    private readonly SemaphoreSlim _slots = new(Concurrent);

    /// <param name="allows">Whether the reviewed user (name, groups) may read the report.</param>
    public async Task<Verdict> CheckAsync(string token, IPAddress? client, Func<string, IReadOnlyList<string>, bool> allows, CancellationToken cancellationToken)
    {
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
        if (_verdicts.TryGetValue(hash, out var kept) && time.GetUtcNow() - kept.At < VerdictKept)
            return new Verdict(kept.User, null);
        if (!_clients.For(client).TryTake(out var wait) || !_everyone.TryTake(out wait))
            return new Verdict(null, wait);
        if (!await _slots.WaitAsync(SlotWait, cancellationToken))
            return new Verdict(null, SlotWait);
        try
        {
            var user = await reviewer.ReviewAsync(token, audience, cancellationToken);
            var allowed = user is { } u && allows(u.User, u.Groups) ? u.User : null;
            Keep(hash, allowed);
            return new Verdict(allowed, null);
        }
        finally
        {
            _slots.Release();
        }
    }

    public void Dispose() => _slots.Dispose();

    private void Keep(string hash, string? user)
    {
        var now = time.GetUtcNow();
        if (_verdicts.Count >= KeptVerdicts)
        {
            foreach (var old in _verdicts.Where(v => now - v.Value.At >= VerdictKept).Select(v => v.Key).ToList())
                _verdicts.TryRemove(old, out _);
            if (_verdicts.Count >= KeptVerdicts)
                _verdicts.Clear();
        }
        _verdicts[hash] = (user, now);
    }
}
