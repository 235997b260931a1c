using System.Text.Json.Nodes;
using ConfigInjector.Sync;
using ConfigInjector.TestSupport.Fakes;
using Microsoft.Extensions.Logging.Abstractions;

namespace ConfigInjector.Tests.Sync;

/// <summary>
/// The informer every replica keeps over labelled Secrets: paged lists, and nothing of a Secret's values kept where
/// only metadata is read. Anyone who may create a Secret can set the label; memory must not follow their data.
/// </summary>
public sealed class ManagedSecretInformerTests : IAsyncLifetime
{
    private SyncHarness _sync = null!;

    public async Task InitializeAsync() => _sync = await SyncHarness.StartAsync();

    public async Task DisposeAsync() => await _sync.DisposeAsync();

    [Fact]
    public async Task Lists_in_pages_and_keeps_metadata_only_when_told()
    {
        var blob = Convert.ToBase64String(new byte[64 * 1024]);
        for (var i = 0; i < 1_200; i++)
        {
            _sync.Api.Put("secrets", new JsonObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = "Secret",
                ["metadata"] = new JsonObject { ["name"] = $"planted-{i:D4}", ["namespace"] = $"team-{i % 7}", ["labels"] = new JsonObject { ["app.kubernetes.io/managed-by"] = "config-injector" } },
                ["data"] = new JsonObject { ["blob"] = blob },
            });
        }
        var informer = ManagedSecretInformer.Create(_sync.Cluster, TimeProvider.System, NullLogger.Instance, ManagedSecretInformer.WithoutData);
        using var stop = new CancellationTokenSource();
        var running = informer.RunAsync(stop.Token);

        await informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        _sync.Api.Put("secrets", new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Secret",
            ["metadata"] = new JsonObject { ["name"] = "planted-late", ["namespace"] = "team-0", ["labels"] = new JsonObject { ["app.kubernetes.io/managed-by"] = "config-injector" } },
            ["data"] = new JsonObject { ["blob"] = blob },
        });
        await Eventually.TrueAsync(() => informer.Get("team-0", "planted-late") is not null, "the watched Secret");
        await stop.CancelAsync();
        await running;

        Assert.Equal(1_201, informer.Items.Count);
        Assert.All(informer.Items, s => Assert.Null(s.Data));
        Assert.True(_sync.Api.ListPages >= 3, $"{_sync.Api.ListPages} pages for 1,200 Secrets");
    }

    [Fact]
    public async Task Managed_fields_are_not_kept_from_the_list_or_the_watch()
    {
        JsonObject Secret(string name) => new()
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Secret",
            ["metadata"] = new JsonObject
            {
                ["name"] = name,
                ["namespace"] = "shop",
                ["labels"] = new JsonObject { ["app.kubernetes.io/managed-by"] = "config-injector" },
                ["managedFields"] = new JsonArray(new JsonObject { ["manager"] = "kubectl", ["operation"] = "Apply", ["fieldsType"] = "FieldsV1", ["fieldsV1"] = new JsonObject { ["f:data"] = new JsonObject() } }),
            },
            ["data"] = new JsonObject { ["TOKEN"] = "dG9rZW4=" },
        };
        _sync.Api.Put("secrets", Secret("listed"));
        var informer = ManagedSecretInformer.Create(_sync.Cluster, TimeProvider.System, NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        var running = informer.RunAsync(stop.Token);

        await informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        _sync.Api.Put("secrets", Secret("watched"));
        await Eventually.TrueAsync(() => informer.Get("shop", "watched") is not null, "the watched Secret");
        await stop.CancelAsync();
        await running;

        Assert.All(informer.Items, s => Assert.Null(s.Metadata.ManagedFields));
        Assert.All(informer.Items, s => Assert.Equal("token", System.Text.Encoding.UTF8.GetString(s.Data["TOKEN"])));
        Assert.NotNull(_sync.Read("shop", "listed").Metadata.ManagedFields);      // the fake does keep them: the informer dropped them
    }

    [Fact]
    public async Task A_watch_refused_with_410_when_it_opens_makes_the_informer_list_again()
    {
        var informer = ManagedSecretInformer.Create(_sync.Cluster, TimeProvider.System, NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        var running = informer.RunAsync(stop.Token);
        await informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        var pagesBefore = _sync.Api.ListPages;

        // The next GET on secrets is the watch opened again after the drop: answered 410 as a whole, not as an event.
        _sync.Api.FailNext("GET", "secrets", 410, reason: "Expired");
        _sync.Api.DropWatches();
        await Eventually.TrueAsync(() => _sync.Api.PendingFaults == 0, "the 410 to be answered");
        await Eventually.TrueAsync(() => _sync.Api.ListPages > pagesBefore, "a relist after the 410");
        _sync.AddManaged("shop", "configinjector-after", "default", "A", "vault-prod:secret/shop/db#password", "v");
        await Eventually.TrueAsync(() => informer.Get("shop", "configinjector-after") is not null, "the Secret added after the relist");
        await stop.CancelAsync();
        await running;
    }

    [Fact]
    public async Task A_watch_that_goes_silent_is_opened_again_and_sees_what_comes_next()
    {
        // No bookmarks and no changes: to the informer the connection looks dead.
        _sync.Api.BookmarkInterval = TimeSpan.FromHours(1);
        var informer = ManagedSecretInformer.Create(_sync.Cluster, TimeProvider.System, NullLogger.Instance, silenceLimit: TimeSpan.FromSeconds(1));
        using var stop = new CancellationTokenSource();
        var running = informer.RunAsync(stop.Token);
        await informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        int Watches() => _sync.Api.Requests.Count(r => r.StartsWith("GET secrets /", StringComparison.Ordinal) && r.EndsWith(" watch", StringComparison.Ordinal));

        await Eventually.TrueAsync(() => Watches() >= 2, "the silent watch to be opened again", TimeSpan.FromSeconds(15));
        _sync.Api.Put("secrets", new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Secret",
            ["metadata"] = new JsonObject { ["name"] = "after-the-silence", ["namespace"] = "team-0", ["labels"] = new JsonObject { ["app.kubernetes.io/managed-by"] = "config-injector" } },
        });
        await Eventually.TrueAsync(() => informer.Get("team-0", "after-the-silence") is not null, "the new Secret");
        await stop.CancelAsync();
        await running;

        Assert.Equal(1, _sync.Api.ListPages);   // watched again from where it was, not relisted
    }
}
