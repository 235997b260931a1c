using System.Globalization;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;

namespace ConfigInjector.TestSupport.Fakes;

/// <summary>
/// Watches as the API server serves them ("Efficient detection of changes" and "Watch bookmarks",
/// https://kubernetes.io/docs/reference/using-api/api-concepts/):
/// - from a resourceVersion: every change after it, then live changes; without one (or "0"), synthetic ADDED events
///   for what exists now, then live changes;
/// - the history of changes is bounded (the API server keeps a limited window; etcd compacts what is older, five
///   minutes by default): a watch from a resourceVersion older than what is kept gets an ERROR event carrying a
///   Status 410 "Expired", and the client must list again;
/// - with allowWatchBookmarks=true, a BOOKMARK whose object carries only kind, apiVersion and a resourceVersion that
///   says "every change up to here has been sent to you": never ahead of a change this watch has not yet been sent.
/// </summary>
public sealed partial class KubeApiFake
{
    /// <summary>How many changes are kept for watches to resume from; older ones are forgotten as a compaction forgets them.</summary>
    public int HistoryLimit { get; set; } = 10_000;

    /// <summary>BOOKMARK events sent so far, on every watch.</summary>
    public int BookmarksSent => Volatile.Read(ref _bookmarks);

    private int _bookmarks;

    private void Remember(Change change)
    {
        _changes.Enqueue(change);
        while (_changes.Count > HistoryLimit)
            _compactedAt = Math.Max(_compactedAt, _changes.Dequeue().Version);
    }

    private async Task WatchAsync(HttpContext context, Route route)
    {
        var selector = LabelSelector.Parse(context.Request.Query["labelSelector"]);
        var bookmarks = context.Request.Query["allowWatchBookmarks"] == "true";
        var from = long.TryParse(context.Request.Query["resourceVersion"], out var rv) ? rv : 0;
        var channel = Channel.CreateUnbounded<Change>();
        var watcher = $"{context.Request.Headers.Authorization.ToString().Replace("Bearer ", "", StringComparison.Ordinal)} {route.Resource}";
        List<Change> backlog;
        long sentUpTo;
        CancellationToken dropped;
        lock (_lock)
        {
            // Taken with the backlog, under the lock Compact holds: a compaction after this point ends this watch.
            dropped = _dropWatches.Token;
            if (from != 0 && from < _compactedAt)
            {
                backlog = [];
                channel = null;
            }
            else
            {
                backlog = from == 0
                    ? [.. _objects.Values.Select(o => new Change(Version(o.Object), "ADDED", o)).OrderBy(c => c.Version)]
                    : [.. _changes.Where(c => c.Version > from)];
                _watchers.Add(channel);
            }
            // Once the backlog is written, this watch has been sent every change up to now; later ones come through its channel.
            sentUpTo = Interlocked.Read(ref _version);
        }
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        if (channel is null)
        {
            Interlocked.Increment(ref _gone);
            await WriteEventAsync(context, "ERROR", StatusObject(410, "Expired", $"too old resource version: {from} ({_compactedAt})"));
            return;
        }
        _openWatches.AddOrUpdate(watcher, 1, (_, n) => n + 1);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, dropped);
        try
        {
            foreach (var change in backlog)
                await SendIfMatchingAsync(context, route, selector, change);
            while (!stop.IsCancellationRequested)
            {
                using var tick = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
                tick.CancelAfter(BookmarkInterval);
                try
                {
                    var change = await channel.Reader.ReadAsync(tick.Token);
                    await SendIfMatchingAsync(context, route, selector, change);
                    sentUpTo = change.Version;
                }
                catch (OperationCanceledException) when (!stop.IsCancellationRequested && bookmarks)
                {
                    Interlocked.Increment(ref _bookmarks);
                    await WriteEventAsync(context, "BOOKMARK", new JsonObject
                    {
                        ["kind"] = Kinds[route.Resource],
                        ["apiVersion"] = route.ApiVersion,
                        ["metadata"] = new JsonObject { ["resourceVersion"] = sentUpTo.ToString(CultureInfo.InvariantCulture) },
                    });
                }
                catch (OperationCanceledException) when (!stop.IsCancellationRequested)
                {
                    // Nothing happened this interval, and no bookmark was asked for.
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The client went away or the watch was dropped on purpose.
        }
        finally
        {
            lock (_lock)
                _watchers.Remove(channel);
            _openWatches.AddOrUpdate(watcher, 0, (_, n) => n - 1);
        }
    }

    private static long Version(JsonObject item) => long.Parse(item["metadata"]!["resourceVersion"]!.GetValue<string>(), CultureInfo.InvariantCulture);

    private static async Task SendIfMatchingAsync(HttpContext context, Route route, LabelSelector selector, Change change)
    {
        if (change.Item.Resource != route.Resource || (route.Namespace is not null && change.Item.Namespace != route.Namespace) || !selector.Matches(change.Item.Object))
            return;
        await WriteEventAsync(context, change.Type, change.Item.Object);
    }

    private static async Task WriteEventAsync(HttpContext context, string type, JsonObject item)
    {
        await context.Response.WriteAsync(new JsonObject { ["type"] = type, ["object"] = item.DeepClone() }.ToJsonString() + "\n");
        await context.Response.Body.FlushAsync();
    }
}
