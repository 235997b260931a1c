using System.Net;
using ConfigInjector.Hosting;
using ConfigInjector.TestSupport;

namespace ConfigInjector.Tests.Hosting;

/// <summary><c>--urls https://[::]:PORT</c> (and <c>*</c>) is one dual-stack listener: IPv4 and IPv6 clients both connect.</summary>
public class DualStackTests
{
    [Theory]
    [InlineData("https://[::]:0")]
    [InlineData("https://*:0")]
    public async Task Every_address_means_both_families(string url)
    {
        await using var server = await WebhookServer.StartAsync(settings: s => s with { Urls = [url] });
        var port = server.Client.BaseAddress!.Port;
        using var client = WebhookServer.TrustingClient(Path.Combine(server.WorkDir, "webhook-certs", "dev", "ca.crt"));

        using var overIPv4 = await client.GetAsync($"https://127.0.0.1:{port}/healthz");
        using var overIPv6 = await client.GetAsync($"https://[::1]:{port}/healthz");

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (overIPv4.StatusCode, overIPv6.StatusCode));
    }

    [Fact]
    public void The_ipv4_wildcard_stays_ipv4_and_the_others_are_the_ipv6_wildcard() =>
        Assert.Equal(
            [IPAddress.Any, IPAddress.IPv6Any, IPAddress.IPv6Any, IPAddress.IPv6Any],
            ListenAddress.ParseAll(["https://0.0.0.0:8443", "https://[::]:8443", "https://*:8443", "https://+:8443"]).Select(a => a.Address));
}
