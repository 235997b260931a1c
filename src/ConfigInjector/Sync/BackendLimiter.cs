using System.Collections.Concurrent;
using System.Threading.RateLimiting;

namespace ConfigInjector.Sync;

/// <summary>Rate-limits the worker's reads per backend (a token bucket each), so a rotation pass never floods a vault.</summary>
internal sealed class BackendLimiter(int readsPerSecond) : IDisposable
{
    private readonly ConcurrentDictionary<string, TokenBucketRateLimiter> _limiters = new(StringComparer.Ordinal);

    public async Task<T> RunAsync<T>(string backend, Func<Task<T>> read, CancellationToken cancellationToken)
    {
        var limiter = _limiters.GetOrAdd(backend, _ => new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = readsPerSecond,
            TokensPerPeriod = readsPerSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        }));
        using var lease = await limiter.AcquireAsync(1, cancellationToken);
        return await read();
    }

    public void Dispose()
    {
        foreach (var limiter in _limiters.Values)
            limiter.Dispose();
    }
}
