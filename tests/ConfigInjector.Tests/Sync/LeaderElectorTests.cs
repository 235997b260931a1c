using System.Net;
using ConfigInjector.Sync;
using k8s.Models;
using Microsoft.Extensions.Time.Testing;

namespace ConfigInjector.Tests.Sync;

/// <summary>
/// The Lease-based leader election on a fake clock against an in-memory Lease that keeps resourceVersions and answers
/// 409 to a stale write, as the API server does: who leads, when another may take over, and when a leader gives up.
/// </summary>
public class LeaderElectorTests
{
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Retry = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan MaxJitteredRetry = Retry * 1.2;
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);

    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-11-29T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly MemoryLeases _leases = new();
    private int _leaders;
    private int _mostLeadersAtOnce;

    [Fact]
    public async Task The_first_candidate_leads_and_the_second_waits_while_the_lease_is_renewed()
    {
        using var stop = new CancellationTokenSource();
        var a = await LeadingAsync("replica-a", stop.Token);
        var b = Start("replica-b", stop.Token);
        await Step(TimeSpan.FromSeconds(60));

        Assert.True(a.Leading);
        Assert.False(b.Leading);
        Assert.Equal("replica-a", _leases.Current!.Spec.HolderIdentity);
        await stop.CancelAsync();
    }

    [Fact]
    public async Task A_dead_leaders_lease_is_taken_over_only_after_the_lease_duration_on_the_takers_own_clock()
    {
        using var stopA = new CancellationTokenSource();
        using var stopB = new CancellationTokenSource();
        var a = await LeadingAsync("replica-a", stopA.Token);
        var b = Start("replica-b", stopB.Token);
        await b.Begun.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await Step(Retry * 2);
        // The leader dies without a word (no release): its renewTime stays, and it was written by a clock an hour
        // behind ours, which must not make the Lease look expired.
        _leases.Current!.Spec.RenewTime = _time.GetUtcNow().UtcDateTime.AddHours(-1);
        _leases.Bump();
        var died = _time.GetUtcNow();
        await stopA.CancelAsync();

        await StepUntil(() => b.Leading, TimeSpan.FromMinutes(2));
        Assert.True(b.Leading);
        // b first sees the last write at its next read (at most one jittered retry after it), and takes over at the
        // first read a lease duration after that: never sooner than the duration, and within two retries of it (each
        // timer firing at the first tick past its due time).
        Assert.InRange(b.StartedAt - died, Duration, Duration + (2 * MaxJitteredRetry) + (3 * Tick));
        Assert.Equal("replica-b", _leases.Current!.Spec.HolderIdentity);
        Assert.Equal(1, _leases.Current.Spec.LeaseTransitions);
        await stopB.CancelAsync();
        await Task.WhenAny(a.Run, Task.Delay(1000));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_leader_that_cannot_renew_stops_leading_at_the_renew_deadline_not_before(bool unreachable)
    {
        using var stop = new CancellationTokenSource();
        var a = await LeadingAsync("replica-a", stop.Token);

        var lastRenewal = _leases.RenewedAt;
        _leases.Failure = unreachable
            ? new HttpRequestException("Connection refused (127.0.0.1:6443)")
            : new ClusterApiException(HttpStatusCode.InternalServerError, "the API server is failing");
        await StepUntil(() => !a.Leading, TimeSpan.FromMinutes(1));

        Assert.False(a.Leading);
        // It stops at its renew deadline after the last renewal it made, at the retry that first finds it passed.
        Assert.InRange(a.StoppedAt - lastRenewal, Deadline, Deadline + Retry + Tick);
        await a.Run.WaitAsync(TimeSpan.FromSeconds(5));
        await stop.CancelAsync();
    }

    [Fact]
    public async Task A_leader_that_finds_another_holder_stops_at_once()
    {
        using var stop = new CancellationTokenSource();
        var a = await LeadingAsync("replica-a", stop.Token);

        _leases.Current!.Spec.HolderIdentity = "replica-z";
        _leases.Bump();
        var takenAt = _time.GetUtcNow();
        await StepUntil(() => !a.Leading, TimeSpan.FromMinutes(1));

        Assert.False(a.Leading);
        Assert.InRange(a.StoppedAt - takenAt, TimeSpan.Zero, Retry + Tick);
        await stop.CancelAsync();
    }

    [Fact]
    public async Task Two_candidates_racing_for_a_free_lease_elect_one()
    {
        using var stop = new CancellationTokenSource();
        _leases.RacingCreates = 2;      // both find no Lease, then both create it: the API server lets one win
        var a = Start("replica-a", stop.Token);
        var b = Start("replica-b", stop.Token);
        await Step(TimeSpan.FromSeconds(30));

        Assert.True(a.Leading ^ b.Leading);
        Assert.Equal(1, Volatile.Read(ref _mostLeadersAtOnce));
        await stop.CancelAsync();
    }

    private async Task<Candidate> LeadingAsync(string identity, CancellationToken token)
    {
        var candidate = Start(identity, token);
        await StepUntil(() => candidate.Leading, TimeSpan.FromMinutes(1));
        Assert.True(candidate.Leading);
        return candidate;
    }

    private Candidate Start(string identity, CancellationToken token)
    {
        var elector = new LeaderElector(_leases, new LeaseElection("config-injector", "config-injector-sync", identity, Duration, Deadline, Retry), _time);
        var candidate = new Candidate();
        elector.OnStartedLeading += () =>
        {
            candidate.StartedAt = _time.GetUtcNow();
            candidate.Leading = true;
            var leaders = Interlocked.Increment(ref _leaders);
            lock (_leases)
                _mostLeadersAtOnce = Math.Max(_mostLeadersAtOnce, leaders);
        };
        elector.OnStoppedLeading += () =>
        {
            candidate.StoppedAt = _time.GetUtcNow();
            candidate.Leading = false;
            Interlocked.Decrement(ref _leaders);
        };
        candidate.Run = Task.Run(async () =>
        {
            candidate.Begun.TrySetResult();
            try
            {
                await elector.RunUntilLeadershipLostAsync(token);
            }
            catch (OperationCanceledException)
            {
            }
        }, CancellationToken.None);
        return candidate;
    }

    private Task Step(TimeSpan total) => StepUntil(() => false, total);

    private async Task StepUntil(Func<bool> done, TimeSpan atMost)
    {
        for (var passed = TimeSpan.Zero; passed < atMost && !done(); passed += Tick)
        {
            await Task.Delay(2);
            // Off the test's SynchronizationContext, the timers' continuations (each candidate's read and write of the
            // Lease, all synchronous here) run inside Advance, so a busy machine cannot leave a candidate behind the clock.
            await Task.Run(() => _time.Advance(Tick));
        }
        await Task.Delay(20);
    }

    private sealed class Candidate
    {
        public volatile bool Leading;

        public DateTimeOffset StartedAt { get; set; }

        public DateTimeOffset StoppedAt { get; set; }

        /// <summary>Its loop has started, so its first read of the Lease is made at the clock's current time.</summary>
        public TaskCompletionSource Begun { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Run { get; set; } = Task.CompletedTask;
    }

    /// <summary>One Lease with the API server's optimistic concurrency: a write must carry the current resourceVersion.</summary>
    private sealed class MemoryLeases : ILeaseStore
    {
        private readonly Lock _lock = new();
        private readonly TaskCompletionSource _allCreating = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _version;

        public V1Lease? Current { get; private set; }

        /// <summary>The renewTime of the last write that succeeded.</summary>
        public DateTimeOffset RenewedAt { get; private set; }

        public volatile Exception? Failure;

        /// <summary>Creates wait until this many have arrived, so each candidate read "no Lease" before any wrote one.</summary>
        public int RacingCreates;

        public void Bump()
        {
            lock (_lock)
                Current!.Metadata.ResourceVersion = (++_version).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        public Task<V1Lease?> ReadLeaseAsync(string namespaceName, string name, CancellationToken cancellationToken)
        {
            Fail();
            lock (_lock)
                return Task.FromResult(Current is null ? null : Copy(Current));
        }

        public async Task<V1Lease> CreateLeaseAsync(V1Lease lease, CancellationToken cancellationToken)
        {
            Fail();
            if (Interlocked.Decrement(ref RacingCreates) <= 0)
                _allCreating.TrySetResult();
            await _allCreating.Task;
            lock (_lock)
            {
                if (Current is not null)
                    throw new ClusterApiException(HttpStatusCode.Conflict, "exists");
                Current = lease;
                Current.Metadata.ResourceVersion = (++_version).ToString(System.Globalization.CultureInfo.InvariantCulture);
                RenewedAt = new DateTimeOffset(DateTime.SpecifyKind(lease.Spec.RenewTime!.Value, DateTimeKind.Utc));
                return Copy(Current);
            }
        }

        public Task<V1Lease> ReplaceLeaseAsync(V1Lease lease, CancellationToken cancellationToken)
        {
            Fail();
            lock (_lock)
            {
                if (Current is null || Current.Metadata.ResourceVersion != lease.Metadata.ResourceVersion)
                    throw new ClusterApiException(HttpStatusCode.Conflict, "stale");
                Current = lease;
                Current.Metadata.ResourceVersion = (++_version).ToString(System.Globalization.CultureInfo.InvariantCulture);
                RenewedAt = new DateTimeOffset(DateTime.SpecifyKind(lease.Spec.RenewTime!.Value, DateTimeKind.Utc));
                return Task.FromResult(Copy(Current));
            }
        }

        private static V1Lease Copy(V1Lease lease) => k8s.KubernetesJson.Deserialize<V1Lease>(k8s.KubernetesJson.Serialize(lease));

        private void Fail()
        {
            if (Failure is { } failure)
                throw failure;
        }
    }
}
