using System.Collections.Concurrent;
using System.Net;

namespace ConfigInjector.Report;

/// <summary>A <see cref="RateBucket"/> per client address (an IPv4-mapped address counts as the IPv4 one), at most 4,096 kept.</summary>
internal sealed class ClientBuckets(int capacity, TimeSpan refillEvery, TimeProvider time)
{
    private const int TrackedClients = 4096;
    private readonly ConcurrentDictionary<string, RateBucket> _clients = new(StringComparer.Ordinal);

    public RateBucket For(IPAddress? client)
    {
        var key = (client is { IsIPv4MappedToIPv6: true } ? client.MapToIPv4() : client)?.ToString() ?? "";
        if (_clients.Count >= TrackedClients && !_clients.ContainsKey(key))
            _clients.Clear();
        return _clients.GetOrAdd(key, _ => new RateBucket(capacity, refillEvery, time));
    }
}
