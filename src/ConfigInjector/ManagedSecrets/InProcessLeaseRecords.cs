using System.Collections.Concurrent;
using System.Globalization;

namespace ConfigInjector.ManagedSecrets;

/// <summary>Lease records in this process, versioned like the API server's objects.</summary>
/// <param name="kept">Whether a worker of this process keeps them (tests); a run without a cluster has none.</param>
internal sealed class InProcessLeaseRecords(bool kept = false) : ILeaseRecords
{
    private readonly ConcurrentDictionary<(string Namespace, string Name), LeaseRecord> _records = new();
    private long _version;

    public bool Kept => kept;

    public Task<LeaseRecord?> FindAsync(string @namespace, string secretName, CancellationToken cancellationToken) =>
        Task.FromResult(_records.GetValueOrDefault((@namespace, secretName)));

    public Task<bool> TrySaveAsync(LeaseRecord record, CancellationToken cancellationToken)
    {
        var key = (record.Namespace, record.SecretName);
        var saved = record with { Version = Interlocked.Increment(ref _version).ToString(CultureInfo.InvariantCulture) };
        lock (_records)
        {
            var current = _records.GetValueOrDefault(key);
            if (current?.Version != record.Version)
                return Task.FromResult(false);
            _records[key] = saved;
            return Task.FromResult(true);
        }
    }

    public Task<IReadOnlyList<LeaseRecord>> ListAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<LeaseRecord>>([.. _records.Values]);

    /// <summary>Only the version read, as the API server's resourceVersion precondition: a record written since stays.</summary>
    public Task DeleteAsync(LeaseRecord record, CancellationToken cancellationToken)
    {
        lock (_records)
        {
            if (_records.TryGetValue((record.Namespace, record.SecretName), out var current) && current.Version == record.Version)
                _records.TryRemove((record.Namespace, record.SecretName), out _);
        }
        return Task.CompletedTask;
    }
}
