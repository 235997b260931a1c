namespace ConfigInjector.Hosting;

/// <summary>
/// On SIGTERM, before the listener closes: <c>/readyz</c> fails at once and the process keeps serving for the
/// shutdown delay, so the endpoints controller takes the pod out of the Service while admissions still succeed;
/// then Kestrel stops accepting and drains what is in flight. Without the delay, the API server can still send an
/// admission to an address that no longer listens, and with <c>failurePolicy: Fail</c> that pod is refused.
/// </summary>
internal sealed class GracefulShutdown(TimeSpan delay, TimeProvider time) : IHostedLifecycleService
{
    private volatile bool _stopping;

    public bool Stopping => _stopping;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        if (delay <= TimeSpan.Zero)
            return;
        try
        {
            await Task.Delay(delay, time, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The host's shutdown timeout ran out: stop now.
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
