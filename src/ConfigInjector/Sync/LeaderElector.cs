using k8s.Models;

namespace ConfigInjector.Sync;

/// <summary>Which Lease to hold, as whom, and client-go's three timings (lease duration &gt; renew deadline &gt; retry period).</summary>
internal sealed record LeaseElection(string Namespace, string Name, string Identity, TimeSpan LeaseDuration, TimeSpan RenewDeadline, TimeSpan RetryPeriod);

/// <summary>
/// Leader election on a coordination.k8s.io Lease as client-go's leaderelection package does it: try to take the Lease
/// every retry period until it is free or has expired, then renew it every retry period; a leader that has not renewed
/// within the renew deadline, or sees another holder, stops leading. Whether another holder's Lease has expired is
/// judged on this replica's own clock from when it last saw the Lease change (its resourceVersion), never by comparing
/// another node's renewTime with ours, so clock skew between nodes does not matter.
/// </summary>
internal sealed class LeaderElector(ILeaseStore leases, LeaseElection election, TimeProvider time)
{
    private string? _observedVersion;
    private DateTimeOffset _observedAt;
    private bool _otherHolder;

    public event Action? OnStartedLeading;

    public event Action? OnStoppedLeading;

    /// <summary>Waits to be elected, leads until the Lease is lost, then returns (cancellation throws).</summary>
    public async Task RunUntilLeadershipLostAsync(CancellationToken cancellationToken)
    {
        while (!await TryAcquireOrRenewAsync(election.RetryPeriod, cancellationToken))
            await Task.Delay(Jittered(election.RetryPeriod), time, cancellationToken);

        OnStartedLeading?.Invoke();
        try
        {
            await RenewUntilLostAsync(cancellationToken);
        }
        finally
        {
            OnStoppedLeading?.Invoke();
        }
    }

    private async Task RenewUntilLostAsync(CancellationToken cancellationToken)
    {
        var renewed = time.GetUtcNow();
        while (true)
        {
            await Task.Delay(election.RetryPeriod, time, cancellationToken);
            var left = renewed + election.RenewDeadline - time.GetUtcNow();
            if (left > TimeSpan.Zero && await TryAcquireOrRenewAsync(left, cancellationToken))
            {
                renewed = time.GetUtcNow();
                continue;
            }
            if (_otherHolder || time.GetUtcNow() - renewed >= election.RenewDeadline)
                return;
        }
    }

    /// <summary>
    /// One attempt to take or renew the Lease, bounded by <paramref name="timeout"/>. Any failure (an API error, an API
    /// server out of reach, a timeout) is a "no": a leader keeps trying until its renew deadline, as client-go does.
    /// </summary>
    private async Task<bool> TryAcquireOrRenewAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var bounded = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, bounded.Token);
        try
        {
            return await TryAcquireOrRenewAsync(linked.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private async Task<bool> TryAcquireOrRenewAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        _otherHolder = false;
        var lease = await leases.ReadLeaseAsync(election.Namespace, election.Name, cancellationToken);
        if (lease is null)
        {
            var created = new V1Lease
            {
                Metadata = new V1ObjectMeta { Name = election.Name, NamespaceProperty = election.Namespace },
                Spec = new V1LeaseSpec { LeaseTransitions = 0 },
            };
            Hold(created.Spec, now, taking: true);
            return await WriteAsync(() => leases.CreateLeaseAsync(created, cancellationToken), now);
        }

        if (lease.Metadata?.ResourceVersion != _observedVersion)
        {
            _observedVersion = lease.Metadata?.ResourceVersion;
            _observedAt = now;
        }
        var spec = lease.Spec ??= new V1LeaseSpec();
        var ours = spec.HolderIdentity == election.Identity;
        var duration = spec.LeaseDurationSeconds is > 0 and var seconds ? TimeSpan.FromSeconds(seconds) : election.LeaseDuration;
        if (!ours && !string.IsNullOrEmpty(spec.HolderIdentity) && _observedAt + duration > now)
        {
            _otherHolder = true;
            return false;
        }
        Hold(spec, now, taking: !ours);
        return await WriteAsync(() => leases.ReplaceLeaseAsync(lease, cancellationToken), now);
    }

    private void Hold(V1LeaseSpec spec, DateTimeOffset now, bool taking)
    {
        if (taking)
        {
            spec.AcquireTime = now.UtcDateTime;
            if (spec.HolderIdentity is { Length: > 0 })
                spec.LeaseTransitions = (spec.LeaseTransitions ?? 0) + 1;
        }
        spec.HolderIdentity = election.Identity;
        spec.LeaseDurationSeconds = (int)election.LeaseDuration.TotalSeconds;
        spec.RenewTime = now.UtcDateTime;
    }

    /// <summary>Writes the Lease; a 409 means another replica wrote it first, which is a "no", not a failure.</summary>
    private async Task<bool> WriteAsync(Func<Task<V1Lease>> write, DateTimeOffset now)
    {
        try
        {
            var written = await write();
            _observedVersion = written.Metadata?.ResourceVersion;
            _observedAt = now;
            return true;
        }
        catch (ClusterApiException e) when (e.IsConflict)
        {
            return false;
        }
    }

    // As client-go: candidates wait a little more than the retry period, so they do not all ask at the same instant.
    private static TimeSpan Jittered(TimeSpan period) => period * (1 + (0.2 * Random.Shared.NextDouble()));
}
