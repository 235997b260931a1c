using ConfigInjector.Backends;
using ConfigInjector.Core.Report;
using ConfigInjector.Observability;

namespace ConfigInjector.Sync;

/// <summary>
/// The leader follows every backend's <see cref="IChangeFeed"/> (a Vault backend with <c>events: true</c>) and asks for
/// each changed path to be refreshed now. A stream that closes or cannot be opened is opened again after a jittered
/// backoff (1 s doubling, at most 30 s; back to 1 s after an event arrives); polling on the interval stays the safety net.
/// Only the leader subscribes: the token is cancelled the moment the Lease is lost.
/// </summary>
internal sealed partial class ChangeFeedFollower(IReadOnlyDictionary<string, ISecretBackend> backends, IServiceProvider services, TimeProvider time,
    ILogger<ChangeFeedFollower> log) : ILeaderTask
{
    public static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(30);

    public string Name => "backend change feeds";

    public Task RunAsync(CancellationToken leading) => Task.WhenAll(backends.Values.OfType<IChangeFeed>().Select(feed => FollowAsync(feed, leading)));

    private async Task FollowAsync(IChangeFeed feed, CancellationToken leading)
    {
        if (services.GetService<IRefreshRequester>() is not { } requester)
        {
            LogNoRequester(log, feed.Name);
            return;
        }
        var metrics = services.GetService<RefreshMetrics>();
        var failures = 0;
        while (!leading.IsCancellationRequested)
        {
            string reason;
            try
            {
                LogSubscribing(log, feed.Name);
                await foreach (var path in feed.ChangedPathsAsync(leading))
                {
                    failures = 0;
                    var outcome = await requester.RequestAsync([new RefPattern(feed.Name, path, null)], feed.Trigger, leading);
                    metrics?.Request(feed.Trigger, outcome.Matched.Count > 0 ? "refreshed" : "nothing_matched");
                    metrics?.Refs(feed.Trigger, outcome.Matched.Count, outcome.Unknown.Count);
                    LogChanged(log, feed.Name, path, outcome.SecretsMadeDue);
                }
                reason = "the stream was closed";
            }
            catch (OperationCanceledException) when (leading.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                reason = e.Message.Split('\n')[0];
            }
            var delay = Backoff(++failures);
            LogReconnecting(log, feed.Name, reason, delay.TotalSeconds);
            try
            {
                await Task.Delay(delay, time, leading);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>1 s doubling per failure in a row, at most 30 s, each cut to a random 50–100 % so replicas and backends spread out.</summary>
    public static TimeSpan Backoff(int failures)
    {
        var full = FirstRetry * Math.Pow(2, Math.Min(failures - 1, 10));
        return (full < LongestRetry ? full : LongestRetry) * (0.5 + (Random.Shared.NextDouble() / 2));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Backend}: subscribing to change events")]
    private static partial void LogSubscribing(ILogger logger, string backend);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Backend}: {Path} changed; {Secrets} managed Secrets made due")]
    private static partial void LogChanged(ILogger logger, string backend, string path, int secrets);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Backend}: change events stopped ({Reason}); subscribing again in {Seconds:0.#}s, polling meanwhile")]
    private static partial void LogReconnecting(ILogger logger, string backend, string reason, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Backend}: change events are on but nothing here can make refs due; polling only")]
    private static partial void LogNoRequester(ILogger logger, string backend);
}
