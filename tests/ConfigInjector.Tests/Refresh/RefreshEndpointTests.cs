using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using ConfigInjector.TestSupport;

namespace ConfigInjector.Tests.Refresh;

/// <summary>
/// <c>POST /refresh</c> as its senders meet it: a CI job or person with the shared secret, an Event Grid subscription
/// (validation handshake, Key Vault events), a CloudEvents sender (OPTIONS handshake, structured events); refused
/// without access, answered with refs and counts (never a value), and counted in the metrics.
/// </summary>
public sealed class RefreshEndpointTests : IAsyncLifetime
{
    private readonly RecordingRefreshRequester _requester = new("dev:app/db#password", "kv-prod:db-password");
    private WebhookServer _server = null!;

    public async Task InitializeAsync() => _server = await RefreshServer.StartAsync(_requester);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static async Task<JsonNode> JsonAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    [Fact]
    public async Task Refs_with_the_shared_secret_are_made_due_and_the_answer_names_matched_and_unknown_refs()
    {
        using var response = await _server.PostAsync("""{"refs": ["dev:app/db", "dev:nothing/here"]}""");

        var answer = await JsonAsync(response);
        Assert.Equal("""{"trigger":"refresh-endpoint","matched":["dev:app/db"],"unknown":["dev:nothing/here"],"secretsMadeDue":1,"ignoredEvents":0}""", answer.ToJsonString());
        var call = Assert.Single(_requester.Calls);
        Assert.Equal("refresh-endpoint", call.Trigger);
        Assert.Equal(["dev:app/db", "dev:nothing/here"], _requester.Requested);
        var metrics = await _server.MetricsAsync();
        Assert.Contains("configinjector_refresh_requests_total{trigger=\"refresh-endpoint\",result=\"refreshed\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("configinjector_refresh_refs_total{trigger=\"refresh-endpoint\",result=\"unknown\"} 1", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("dev-password", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_credentials_it_is_401_with_a_wrong_secret_403_and_nothing_is_requested()
    {
        using var none = await _server.PostAsync("""{"refs": ["dev:app/db"]}""", bearer: null);
        using var wrong = await _server.PostAsync("""{"refs": ["dev:app/db"]}""", bearer: RefreshServer.Secret + "x");
        using var prefix = await _server.PostAsync("""{"refs": ["dev:app/db"]}""", bearer: RefreshServer.Secret[..^1]);

        Assert.Equal((HttpStatusCode.Unauthorized, HttpStatusCode.Forbidden, HttpStatusCode.Forbidden), (none.StatusCode, wrong.StatusCode, prefix.StatusCode));
        Assert.StartsWith("/refresh is only for the clients --refresh-access names", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(_requester.Calls);
        Assert.Contains("configinjector_refresh_requests_total{trigger=\"refresh-endpoint\",result=\"refused\"} 3", await _server.MetricsAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rotated_secret_file_lets_the_new_secret_in_and_the_old_one_no_more_within_seconds()
    {
        using (var before = await _server.PostAsync("""{"refs": ["dev:app/db"]}"""))
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);

        await File.WriteAllTextAsync(Path.Combine(_server.WorkDir, "config", "refresh-secret"), "the-next-shared-secret-after-rotation\n");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        HttpStatusCode status;
        do
        {
            await Task.Delay(200);
            using var response = await _server.PostAsync("""{"refs": ["dev:app/db"]}""", bearer: "the-next-shared-secret-after-rotation");
            status = response.StatusCode;
        }
        while (status != HttpStatusCode.OK && clock.Elapsed < TimeSpan.FromSeconds(10));

        Assert.Equal(HttpStatusCode.OK, status);
        // The file is read again at most once a second: seconds, not a restart (8 s of slack for a loaded machine).
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), $"the new secret took {clock.Elapsed}");
        using var old = await _server.PostAsync("""{"refs": ["dev:app/db"]}""");
        Assert.Equal(HttpStatusCode.Forbidden, old.StatusCode);
    }

    [Fact]
    public async Task The_event_grid_validation_handshake_is_answered_with_its_code_and_refreshes_nothing()
    {
        using var response = await _server.PostAsync(EventDeliveries.SubscriptionValidation);

        Assert.Equal($$"""{"validationResponse":"{{EventDeliveries.ValidationCode}}"}""", (await JsonAsync(response)).ToJsonString());
        Assert.Empty(_requester.Calls);
    }

    [Fact]
    public async Task A_key_vault_event_from_event_grid_makes_the_backends_secret_due()
    {
        using var response = await _server.PostAsync($"[{EventDeliveries.KeyVaultEvent("kv-prod", "db-password")}, {EventDeliveries.KeyVaultEvent("kv-other", "db-password")}]");

        var answer = await JsonAsync(response);
        Assert.Equal("event-grid", answer["trigger"]!.GetValue<string>());
        Assert.Equal(1, answer["ignoredEvents"]!.GetValue<int>());
        var call = Assert.Single(_requester.Calls);
        Assert.Equal(("event-grid", "kv-prod:db-password"), (call.Trigger, Assert.Single(call.Patterns).ToString()));
    }

    [Fact]
    public async Task A_cloud_event_sender_gets_the_options_handshake_then_its_structured_event_is_taken()
    {
        using var options = new HttpRequestMessage(HttpMethod.Options, "/refresh");
        options.Headers.Add("WebHook-Request-Origin", "eventgrid.azure.net");
        options.Headers.Authorization = new AuthenticationHeaderValue("Bearer", RefreshServer.Secret);
        using var handshake = await _server.Client.SendAsync(options);
        using var delivery = await _server.PostAsync(EventDeliveries.KeyVaultCloudEvent("kv-prod", "db-password"), contentType: "application/cloudevents+json");

        Assert.Equal(HttpStatusCode.OK, handshake.StatusCode);
        Assert.Equal("eventgrid.azure.net", handshake.Headers.GetValues("WebHook-Allowed-Origin").Single());
        Assert.Equal("cloudevents", (await JsonAsync(delivery))["trigger"]!.GetValue<string>());
        Assert.Equal(["kv-prod:db-password"], _requester.Requested);
    }

    [Fact]
    public async Task The_options_handshake_gives_no_consent_without_access_or_without_an_origin()
    {
        using var anonymous = new HttpRequestMessage(HttpMethod.Options, "/refresh");
        anonymous.Headers.Add("WebHook-Request-Origin", "eventgrid.azure.net");
        using var noOrigin = new HttpRequestMessage(HttpMethod.Options, "/refresh");
        noOrigin.Headers.Authorization = new AuthenticationHeaderValue("Bearer", RefreshServer.Secret);

        using var refused = await _server.Client.SendAsync(anonymous);
        using var bad = await _server.Client.SendAsync(noOrigin);

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.False(refused.Headers.Contains("WebHook-Allowed-Origin"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.False(bad.Headers.Contains("WebHook-Allowed-Origin"));
    }

    [Fact]
    public async Task A_flood_from_one_client_is_answered_429_with_retry_after_before_any_work()
    {
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 30 && limited is null; i++)
        {
            var response = await _server.PostAsync("""{"refs": ["dev:app/db"]}""");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
                limited = response;
        }

        Assert.NotNull(limited);
        Assert.True(statuses.Count > 9, string.Join(",", statuses));
        Assert.True(int.Parse(limited.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        Assert.StartsWith("too many refresh requests; try again in ", await limited.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(_requester.Calls.Count < statuses.Count);
    }
}
