using System.Net;
using System.Net.Http.Headers;
using ConfigInjector.TestSupport;

namespace ConfigInjector.Tests.Refresh;

/// <summary>
/// Hostile and broken bodies on <c>POST /refresh</c> from a caller with access: each gets 400 (413 when too large) with one
/// line that says why, never a 500 or a stack trace, and nothing is made due.
/// </summary>
public sealed class RefreshBadInputTests : IAsyncLifetime
{
    private readonly RecordingRefreshRequester _requester = new("dev:app/db#password");
    private WebhookServer _server = null!;

    public async Task InitializeAsync() => _server = await RefreshServer.StartAsync(_requester);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public static TheoryData<string, string> Bodies => new()
    {
        { "", "the body is empty; expected {\"refs\": [...]}, an Event Grid delivery or a CloudEvent" },
        { "{\"refs\": [\"dev:app/db\"", "the body is not JSON: " },
        { "\"refs\"", "the body is a JSON string; expected" },
        { "null", "the body is a JSON null; expected" },
        { new string('[', 10_000) + new string(']', 10_000), "the body is not JSON: " },
        { "{\"refs\": [\"" + new string('x', 100_000) + "\"]}", "refs[0]: \"xxxxxxxxxx" },
        { "[{\"id\": \"1\", \"eventType\": \"Microsoft.KeyVault.SecretNewVersionCreated\", \"data\": {\"ObjectName\": \"../../etc\", \"VaultName\": \"kv-prod\"}}]", "event 0 (Microsoft.KeyVault.SecretNewVersionCreated): data.ObjectName \"../../etc\" is not a Key Vault secret name" },
        { "{\"specversion\": \"1.0\", \"id\": \"1\", \"source\": \"s\", \"type\": \"t\", \"data\": {\"refs\": [\"no-colon\"]}}", "the CloudEvent (t): data.refs[0]: \"no-colon\": no ':' after the backend name" },
        { "{\"refs\": [\"dev:a\"], \"refs\": [\"dev:b\"], \"x\": {\"y\": 1}}", "unknown field \"x\";" },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task A_bad_body_gets_400_with_one_line_and_nothing_is_requested(string body, string reason)
    {
        using var response = await _server.PostAsync(body);

        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith(reason, text, StringComparison.Ordinal);
        Assert.Equal(1, text.Count(c => c == '\n'));
        Assert.True(text.Length < 600, $"{text.Length} characters");
        Assert.Empty(_requester.Calls);
    }

    [Fact]
    public async Task Bytes_that_are_not_utf8_get_400()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/refresh") { Content = new ByteArrayContent([0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x7D]) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", RefreshServer.Secret);

        using var response = await _server.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("the body is not JSON: ", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_over_a_megabyte_gets_413_announced_or_not()
    {
        var huge = "{\"refs\": [\"dev:" + new string('a', 2 * 1024 * 1024) + "\"]}";
        using var announced = await _server.PostAsync(huge);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/refresh") { Content = new StreamContent(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(huge))) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", RefreshServer.Secret);
        request.Headers.TransferEncodingChunked = true;
        using var chunked = await _server.Client.SendAsync(request);

        Assert.Equal((HttpStatusCode.RequestEntityTooLarge, HttpStatusCode.RequestEntityTooLarge), (announced.StatusCode, chunked.StatusCode));
        Assert.Equal("the body is larger than 1048576 bytes\n", await chunked.Content.ReadAsStringAsync());
        Assert.Empty(_requester.Calls);
    }

    [Fact]
    public async Task A_binary_mode_cloud_event_is_refused_with_what_to_send_instead()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/refresh") { Content = new StringContent("{\"ObjectName\": \"db\"}") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", RefreshServer.Secret);
        request.Headers.Add("ce-specversion", "1.0");

        using var response = await _server.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("a binary-mode CloudEvent", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_error_log_never_holds_a_stack_trace_and_metrics_count_the_refusals()
    {
        using var response = await _server.PostAsync("{");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain("   at ", _server.AllLogText(), StringComparison.Ordinal);
        Assert.Contains("configinjector_refresh_requests_total{trigger=\"refresh-endpoint\",result=\"invalid\"} 1", await _server.MetricsAsync(), StringComparison.Ordinal);
    }
}
