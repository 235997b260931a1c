using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using ConfigInjector.Sync;
using ConfigInjector.TestSupport.Fakes;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace ConfigInjector.Tests.Sync;

/// <summary>
/// The managed-Secret informer against a fake API server that keeps a bounded history and sends bookmarks, as the
/// real one does: a quiet watch keeps its place through bookmarks (a dropped watch resumes, it does not relist the
/// cluster), bookmarks keep it from being taken for dead, and deletions reach the store and the listeners whether
/// the watch or a relist finds them.
/// </summary>
public sealed class InformerWatchTests : IAsyncLifetime, IDisposable
{
    private SyncHarness _sync = null!;
    private Informer<V1Secret> _informer = null!;
    private readonly ConcurrentQueue<(WatchEventType Type, string Name)> _heard = new();
    private readonly CancellationTokenSource _stop = new();
    private Task _running = Task.CompletedTask;

    public async Task InitializeAsync() => _sync = await SyncHarness.StartAsync();

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        await _running;
        await _sync.DisposeAsync();
    }

    public void Dispose() => _stop.Dispose();

    private async Task StartAsync(TimeSpan? silenceLimit = null)
    {
        _informer = ManagedSecretInformer.Create(_sync.Cluster, TimeProvider.System, NullLogger.Instance, silenceLimit: silenceLimit);
        _informer.Changed += (type, secret) => _heard.Enqueue((type, secret.Metadata.Name));
        _running = _informer.RunAsync(_stop.Token);
        await _informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        // The harness's client sends no bearer token.
        await Eventually.TrueAsync(() => _sync.Api.OpenWatches("secrets", "") == 1, "the informer's watch");
    }

    private void PutManaged(string name) => _sync.Api.Put("secrets", new JsonObject
    {
        ["apiVersion"] = "v1",
        ["kind"] = "Secret",
        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = "shop", ["labels"] = new JsonObject { ["app.kubernetes.io/managed-by"] = "config-injector" } },
    });

    private int Watches() => _sync.Api.Requests.Count(r => r.StartsWith("GET secrets /", StringComparison.Ordinal) && r.EndsWith(" watch", StringComparison.Ordinal));

    [Fact]
    public async Task A_dropped_watch_resumes_from_its_last_bookmark_when_the_history_has_moved_on()
    {
        _sync.Api.HistoryLimit = 50;
        await StartAsync();
        // A busy cluster: a hundred changes the informer does not watch push its list's resourceVersion out of the history.
        for (var i = 0; i < 100; i++)
            _sync.Api.Put("pods", new JsonObject { ["metadata"] = new JsonObject { ["name"] = $"busy-{i}", ["namespace"] = "shop" } });
        // Long enough for two bookmarks after the busy changes, if the watch asked for them.
        var bookmarks = _sync.Api.BookmarksSent;
        var deadline = DateTime.UtcNow.AddSeconds(2);
        while (_sync.Api.BookmarksSent < bookmarks + 2 && DateTime.UtcNow < deadline)
            await Task.Delay(50);

        _sync.Api.DropWatches();
        await Eventually.TrueAsync(() => Watches() >= 2, "the watch opened again");
        PutManaged("after-the-drop");
        await Eventually.TrueAsync(() => _informer.Get("shop", "after-the-drop") is not null, "the Secret written after the drop");

        Assert.Equal(0, _sync.Api.GoneAnswers);
        Assert.Equal(1, _sync.Api.ListPages);
    }

    [Fact]
    public async Task A_watch_that_brings_only_bookmarks_is_not_taken_for_dead()
    {
        _sync.Api.BookmarkInterval = TimeSpan.FromMilliseconds(200);
        // A silence limit 15 bookmarks long, so a loaded machine's pause cannot pass for a silent watch.
        await StartAsync(silenceLimit: TimeSpan.FromSeconds(3));

        // More than two silence limits with nothing but bookmarks on the watch.
        await Task.Delay(TimeSpan.FromSeconds(7));

        Assert.Equal(1, Watches());
        Assert.True(_sync.Api.BookmarksSent >= 8, $"{_sync.Api.BookmarksSent} bookmarks");
    }

    [Fact]
    public async Task A_secret_deleted_while_watched_leaves_the_store_and_is_told_as_deleted()
    {
        PutManaged("doomed");
        await StartAsync();

        _sync.Api.Delete("secrets", "shop", "doomed");
        await Eventually.TrueAsync(() => _informer.Get("shop", "doomed") is null, "the deleted Secret gone from the store", TimeSpan.FromSeconds(5));

        Assert.Contains((WatchEventType.Deleted, "doomed"), _heard);
    }

    [Fact]
    public async Task A_secret_deleted_while_the_watch_was_down_is_told_as_deleted_by_the_relist()
    {
        PutManaged("doomed");
        PutManaged("kept");
        await StartAsync();

        // The watch drops; before it is opened again the Secret is deleted and the history compacted past it, so
        // only the relist after the 410 can tell.
        _sync.Api.BeforeNext("GET", "secrets", null, () =>
        {
            _sync.Api.Delete("secrets", "shop", "doomed");
            _sync.Api.Compact();
        });
        _sync.Api.DropWatches();
        await Eventually.TrueAsync(() => _sync.Api.ListPages >= 2, "a relist after the 410", TimeSpan.FromSeconds(10));
        await Eventually.TrueAsync(() => _heard.Contains((WatchEventType.Deleted, "doomed")), "the deletion told to the listeners", TimeSpan.FromSeconds(5));

        Assert.Equal(1, _sync.Api.GoneAnswers);
        Assert.Null(_informer.Get("shop", "doomed"));
        Assert.NotNull(_informer.Get("shop", "kept"));
        Assert.DoesNotContain((WatchEventType.Deleted, "kept"), _heard);
    }
}
