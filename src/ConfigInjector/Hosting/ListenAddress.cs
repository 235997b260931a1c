using System.Globalization;
using System.Net;
using ConfigInjector.Configuration;

namespace ConfigInjector.Hosting;

/// <summary>
/// An <c>https://host:port</c> from <c>--urls</c> (the webhook serves HTTPS only), or from <c>--metrics-urls</c>, where
/// <c>http://</c> is allowed too. <c>[::]</c>, <c>*</c> and <c>+</c> listen on every address of both families (one
/// dual-stack socket: IPv4 clients arrive as IPv4-mapped addresses), so a pod IP of either family reaches it;
/// <c>0.0.0.0</c> is IPv4 only. A host without IPv6 gets IPv4 alone.
/// </summary>
internal sealed record ListenAddress(IPAddress Address, int Port, bool Https = true)
{
    public const string MetricsFlag = "--metrics-urls";

    public static IReadOnlyList<ListenAddress> ParseAll(IEnumerable<string> urls) => ParseAll(urls, "--urls", allowHttp: false);

    /// <summary>The <c>--metrics-urls</c> listeners: plain HTTP is allowed there, as they serve metrics alone.</summary>
    public static IReadOnlyList<ListenAddress> ParseMetrics(IEnumerable<string> urls) => ParseAll(urls, MetricsFlag, allowHttp: true);

    private static List<ListenAddress> ParseAll(IEnumerable<string> urls, string flag, bool allowHttp) =>
        [.. urls.SelectMany(u => u.Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Select(u => Parse(u, flag, allowHttp))];

    private static ListenAddress Parse(string url, string flag, bool allowHttp)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) && !Uri.TryCreate(url.Replace("://*", "://[::]", StringComparison.Ordinal).Replace("://+", "://[::]", StringComparison.Ordinal), UriKind.Absolute, out uri))
            throw new ConfigException($"{flag}: \"{url}\" is not a URL like {(allowHttp ? "http://[::]:9090" : ServeSettings.DefaultUrl)}");
        if (uri.Scheme != "https" && !(allowHttp && uri.Scheme == "http"))
        {
            throw new ConfigException(allowHttp
                ? $"{flag}: \"{url}\" is neither http nor https"
                : $"{flag}: \"{url}\" is not https; the API server only calls webhooks over TLS");
        }
        if (uri.AbsolutePath != "/")
            throw new ConfigException($"{flag}: \"{url}\" must not have a path");
        var host = uri.Host.Trim('[', ']');
        var address = host switch
        {
            "localhost" => IPAddress.Loopback,
            _ => IPAddress.TryParse(host, out var ip) ? ip : throw new ConfigException($"{flag}: \"{url}\": use an IP address, localhost or *"),
        };
        if (address.Equals(IPAddress.IPv6Any) && !System.Net.Sockets.Socket.OSSupportsIPv6)
            address = IPAddress.Any;
        return new ListenAddress(address, uri.Port, uri.Scheme == "https");
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{(Https ? "https" : "http")}://{(Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{Address}]" : Address.ToString())}:{Port}");
}
