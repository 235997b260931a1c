using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;

namespace ConfigInjector.Backends;

/// <summary>
/// Issues, renews and revokes dynamic credentials through the backends that can (<see cref="IIssuesLeases"/>), each
/// call bounded by the read timeout. Never cached nor coalesced: every issue is one new credential. Under
/// <c>identity: pod</c> the lease is issued to, renewed and revoked by the pod's service account.
/// </summary>
internal sealed class LeaseIssuers(IReadOnlyDictionary<string, ISecretBackend> backends, TimeSpan timeout)
{
    /// <summary>Whether <paramref name="backend"/> can issue credentials at all.</summary>
    public bool Issues(string backend) => backends.GetValueOrDefault(backend) is IIssuesLeases;

    public async Task<IssuedSecret> IssueAsync(SecretLocation location, Subject? pod, CancellationToken cancellationToken)
    {
        if (Issuer(location.Backend) is not { } issuer)
            return new IssuedSecret(SecretRead.NotFound(location, $"backend \"{location.Backend}\" issues no dynamic credentials"), null);
        return await WithTimeoutAsync(token => issuer.IssueAsync(location, As(location.Backend, pod), token).AsTask(),
            () => new IssuedSecret(SecretRead.Failed(location, $"timed out after {timeout.TotalSeconds:0.#}s"), null), cancellationToken);
    }

    /// <summary>The lease-issuing engine <paramref name="location"/> is in, or null (asks the vault's mount table; issues nothing).</summary>
    public async Task<IssuingEngine?> EngineOfAsync(SecretLocation location, Subject? pod, CancellationToken cancellationToken) =>
        Issuer(location.Backend) is not { } issuer ? null
        : await WithTimeoutAsync(token => issuer.EngineOfAsync(location, As(location.Backend, pod), token).AsTask(), () => null, cancellationToken);

    public Task<LeaseAnswer> RenewAsync(string backend, Lease lease, Subject? pod, CancellationToken cancellationToken) =>
        CallAsync(backend, (issuer, token) => issuer.RenewAsync(lease, As(backend, pod), token), cancellationToken);

    public Task<LeaseAnswer> RevokeAsync(string backend, Lease lease, Subject? pod, CancellationToken cancellationToken) =>
        CallAsync(backend, (issuer, token) => issuer.RevokeAsync(lease, As(backend, pod), token), cancellationToken);

    private Task<LeaseAnswer> CallAsync(string backend, Func<IIssuesLeases, CancellationToken, ValueTask<LeaseAnswer>> call, CancellationToken cancellationToken) =>
        Issuer(backend) is not { } issuer
            ? Task.FromResult(new LeaseAnswer(LeaseOutcome.Failed, null, $"backend \"{backend}\" issues no dynamic credentials"))
            : WithTimeoutAsync(token => call(issuer, token).AsTask(), () => new LeaseAnswer(LeaseOutcome.Failed, null, $"timed out after {timeout.TotalSeconds:0.#}s"), cancellationToken);

    private IIssuesLeases? Issuer(string backend) => backends.GetValueOrDefault(backend) as IIssuesLeases;

    private Subject? As(string backend, Subject? pod) => backends.GetValueOrDefault(backend) is IReadsAsServiceAccount ? pod : null;

    private async Task<T> WithTimeoutAsync<T>(Func<CancellationToken, Task<T>> call, Func<T> timedOut, CancellationToken cancellationToken)
    {
        using var timer = new CancellationTokenSource(timeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        try
        {
            return await call(linked.Token);
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return timedOut();
        }
    }
}
