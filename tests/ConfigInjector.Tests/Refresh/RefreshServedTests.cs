using System.Net;
using ConfigInjector.TestSupport;

namespace ConfigInjector.Tests.Refresh;

/// <summary>Whether <c>/refresh</c> is there at all: only with <c>--refresh-access</c>, and without a sync worker it says so.</summary>
public sealed class RefreshServedTests
{
    [Fact]
    public async Task Without_refresh_access_there_is_no_refresh_endpoint()
    {
        await using var server = await WebhookServer.StartAsync();

        using var response = await server.PostAsync("""{"refs": ["dev:app/db"]}""");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task With_access_but_no_cluster_to_refresh_in_the_answer_is_503_with_the_reason_and_a_get_is_405()
    {
        await using var server = await RefreshServer.StartAsync(requester: null);

        using var response = await server.PostAsync("""{"refs": ["dev:app/db"]}""");
        using var get = await server.Client.GetAsync("/refresh");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("refresh needs the sync worker: serve is running without a cluster\n", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
    }
}
