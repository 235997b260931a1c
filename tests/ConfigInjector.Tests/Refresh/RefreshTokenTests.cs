using System.Net;
using ConfigInjector.Report;
using ConfigInjector.TestSupport;

namespace ConfigInjector.Tests.Refresh;

/// <summary>
/// Bearer tokens on <c>/refresh</c>: reviewed by the API server for the refresh audience, so a token minted for the
/// report (or the API server) does not trigger refreshes even for a user the list names.
/// </summary>
public sealed class RefreshTokenTests
{
    [Fact]
    public async Task A_token_minted_for_refresh_gets_in_and_one_minted_for_the_report_does_not()
    {
        await using var cluster = await ClusterEnvironment.StartAsync();
        cluster.Api.AddTokenFor(RefreshAccess.TokenAudience, "deploy-token", "ci", "deployers");
        cluster.Api.AddTokenFor(ReportAccess.TokenAudience, "report-token", "ci", "deployers");
        var requester = new RecordingRefreshRequester();
        var server = await cluster.StartReplicaAsync(settings: s => s with { RefreshAccess = "group:deployers" }, services: requester.Register);

        using var allowed = await server.PostAsync("""{"refs": ["vault-prod:secret/shop/db"]}""", bearer: "deploy-token");
        using var reportToken = await server.PostAsync("""{"refs": ["vault-prod:secret/shop/db"]}""", bearer: "report-token");

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.Forbidden), (allowed.StatusCode, reportToken.StatusCode));
        Assert.Equal(["vault-prod:secret/shop/db"], requester.Requested);
    }
}
