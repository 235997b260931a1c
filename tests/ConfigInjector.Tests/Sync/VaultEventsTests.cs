using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using ConfigInjector.Backends.Vault;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Fakes;

namespace ConfigInjector.Tests.Sync;

/// <summary>
/// A Vault backend with <c>events: true</c> against the Vault fake's real WebSocket event stream: the leader alone
/// subscribes, a KV write reaches the refresh requester within seconds, a dropped stream is opened again, and neither
/// the token nor a value reaches the log.
/// </summary>
public sealed class VaultEventsTests : IAsyncLifetime
{
    private const string EventsAuth = "auth: { token: { file: token } }\n    events: true";
    private ClusterEnvironment _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ClusterEnvironment.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static Dictionary<string, string> Password(string value) => new() { ["password"] = value, ["user"] = "shop" };

    private static Task RequestedAsync(RecordingRefreshRequester requester, int count) =>
        Eventually.TrueAsync(() => requester.Calls.Count(c => c.Trigger == "vault-events") >= count, $"{count} vault-events refresh requests", TimeSpan.FromSeconds(10));

    [Fact]
    public async Task A_write_reaches_the_refresh_requester_within_seconds_without_the_token_or_a_value_in_the_log()
    {
        var requester = new RecordingRefreshRequester("vault-prod:secret/shop/db#password");
        var server = await _cluster.StartReplicaAsync(vaultAuth: EventsAuth, services: requester.Register, steadyLeader: true);
        await Eventually.TrueAsync(() => _cluster.Vault.EventSubscriptions == 1, "the leader subscribed", TimeSpan.FromSeconds(10));

        var clock = Stopwatch.StartNew();
        _cluster.Vault.Put("secret/shop/db", Password("cluster-only-password-v2"));
        await RequestedAsync(requester, 1);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"{clock.Elapsed} from the write to the request");
        var request = requester.Calls.First(c => c.Trigger == "vault-events");
        Assert.Equal("vault-prod:secret/shop/db", Assert.Single(request.Patterns).ToString());
        Assert.Contains(_cluster.Vault.Requests, r => r == "GET sys/events/subscribe/kv-v2/data-*?json=true");
        server.AssertNoValueInLogs("cluster-only-password");
        server.AssertNoValueInLogs(VaultFake.RootToken);
    }

    [Fact]
    public async Task A_dropped_stream_is_opened_again_and_the_next_write_still_arrives()
    {
        var requester = new RecordingRefreshRequester();
        var server = await _cluster.StartReplicaAsync(vaultAuth: EventsAuth, services: requester.Register, steadyLeader: true);
        await Eventually.TrueAsync(() => _cluster.Vault.EventSubscriptions == 1, "the leader subscribed", TimeSpan.FromSeconds(10));

        _cluster.Vault.DropEventStreams();
        await Eventually.TrueAsync(() => _cluster.Vault.EventSubscriptions == 2, "subscribed again", TimeSpan.FromSeconds(10));
        _cluster.Vault.Put("secret/shop/tls", new Dictionary<string, string> { ["ca"] = "cluster-only-ca-v2" });
        await RequestedAsync(requester, 1);

        Assert.Contains("vault-prod: change events stopped (the stream was closed); subscribing again in", server.AllLogText(), StringComparison.Ordinal);
        Assert.Equal(["vault-prod:secret/shop/tls"], requester.Requested);
        server.AssertNoValueInLogs(VaultFake.RootToken);
    }

    [Fact]
    public async Task A_follower_never_subscribes_until_it_leads()
    {
        var leaderRequests = new RecordingRefreshRequester();
        var followerRequests = new RecordingRefreshRequester();
        var leader = await _cluster.StartReplicaAsync("replica-a", vaultAuth: EventsAuth, services: leaderRequests.Register);
        await Eventually.TrueAsync(() => _cluster.Vault.EventSubscriptions == 1, "the leader subscribed", TimeSpan.FromSeconds(10));
        var follower = await _cluster.StartReplicaAsync("replica-b", vaultAuth: EventsAuth, services: followerRequests.Register);

        await Task.Delay(TimeSpan.FromSeconds(3));
        _cluster.Vault.Put("secret/shop/db", Password("cluster-only-password-v2"));
        await RequestedAsync(leaderRequests, 1);
        // Short terms (this test needs a failover), so the leader may have lost one on a loaded machine and subscribed
        // again; the follower never did.
        Assert.DoesNotContain("subscribing to change events", follower.AllLogText(), StringComparison.Ordinal);
        Assert.Empty(followerRequests.Calls);

        await leader.StopAsync();
        await Eventually.TrueAsync(() => _cluster.Vault.EventSubscriptions == 2, "the new leader subscribed", TimeSpan.FromSeconds(15));
        _cluster.Vault.Put("secret/shop/db", Password("cluster-only-password-v3"));
        await RequestedAsync(followerRequests, 1);
    }

    [Fact]
    public async Task The_fake_refuses_subscriptions_as_vault_does_without_a_token_or_json()
    {
        async Task<HttpStatusCode> SubscribeAsync(string? token, string query)
        {
            using var socket = new ClientWebSocket();
            socket.Options.CollectHttpResponseDetails = true;
            socket.Options.RemoteCertificateValidationCallback = ConfigInjector.Tls.CustomCaTrust.Validator(ConfigInjector.Tls.CustomCaTrust.LoadBundle(_cluster.Vault.CaFile));
            if (token is not null)
                socket.Options.SetRequestHeader("X-Vault-Token", token);
            try
            {
                await socket.ConnectAsync(new Uri($"wss://{_cluster.Vault.Address.Authority}/v1/sys/events/subscribe/kv-v2/data-*{query}"), CancellationToken.None);
                return socket.HttpStatusCode;
            }
            catch (WebSocketException)
            {
                return socket.HttpStatusCode;
            }
        }

        Assert.Equal(HttpStatusCode.Forbidden, await SubscribeAsync(null, "?json=true"));
        Assert.Equal(HttpStatusCode.Forbidden, await SubscribeAsync("hvs.not-a-token", "?json=true"));
        Assert.Equal(HttpStatusCode.BadRequest, await SubscribeAsync(VaultFake.RootToken, ""));
        Assert.Equal(HttpStatusCode.SwitchingProtocols, await SubscribeAsync(VaultFake.RootToken, "?json=true"));
    }

    [Theory]
    [InlineData("secret/data/shop/db", "secret/", "secret/shop/db")]
    [InlineData("kv/team/data/app/api", "kv/team/", "kv/team/app/api")]
    [InlineData("secret/data/shop/db", null, "secret/shop/db")]
    public void An_events_path_is_the_ref_path_without_the_kv_v2_data_segment(string path, string? mount, string expected)
    {
        var plugin = mount is null ? "" : $$""", "plugin_info": {"mount_path": "{{mount}}"}""";
        var json = $$$"""{"data": {"event": {"metadata": {"path": "{{{path}}}"}}{{{plugin}}}}}""";

        Assert.Equal(expected, VaultEventsBackend.RefPath(Encoding.UTF8.GetBytes(json)));
    }
}
