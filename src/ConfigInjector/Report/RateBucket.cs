namespace ConfigInjector.Report;

/// <summary>A token bucket on <see cref="TimeProvider"/>: <c>capacity</c> at once, then one more every <c>refillEvery</c>.</summary>
internal sealed class RateBucket(int capacity, TimeSpan refillEvery, TimeProvider time)
{
    private readonly Lock _lock = new();
    private double _tokens = capacity;
    private DateTimeOffset _at = time.GetUtcNow();

    /// <summary>Takes one token; when there is none, says how long until there is.</summary>
    public bool TryTake(out TimeSpan retryAfter)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            _tokens = Math.Min(capacity, _tokens + (now - _at) / refillEvery);
            _at = now;
            if (_tokens >= 1)
            {
                _tokens--;
                retryAfter = TimeSpan.Zero;
                return true;
            }
            retryAfter = refillEvery * (1 - _tokens);
            return false;
        }
    }
}
