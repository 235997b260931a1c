using System.Globalization;
using System.Net;
using ConfigInjector.Configuration;

namespace ConfigInjector.Hosting;

/// <summary>
/// An <c>https://host:port</c> from <c>--urls</c>; the webhook serves HTTPS only. <c>[::]</c>, <c>*</c> and <c>+</c> listen
/// on every address of both families (one dual-stack socket: IPv4 clients arrive as IPv4-mapped addresses), so a pod
/// IP of either family reaches it; <c>0.0.0.0</c> is IPv4 only. A host without IPv6 gets IPv4 alone.
/// </summary>
internal sealed record ListenAddress(IPAddress Address, int Port)
{
    public static IReadOnlyList<ListenAddress> ParseAll(IEnumerable<string> urls) =>
        [.. urls.SelectMany(u => u.Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Select(Parse)];

    public static ListenAddress Parse(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) && !Uri.TryCreate(url.Replace("://*", "://[::]", StringComparison.Ordinal).Replace("://+", "://[::]", StringComparison.Ordinal), UriKind.Absolute, out uri))
            throw new ConfigException($"--urls: \"{url}\" is not a URL like {ServeSettings.DefaultUrl}");
        if (uri.Scheme != "https")
            throw new ConfigException($"--urls: \"{url}\" is not https; the API server only calls webhooks over TLS");
        if (uri.AbsolutePath != "/")
            throw new ConfigException($"--urls: \"{url}\" must not have a path");
        var host = uri.Host.Trim('[', ']');
        var address = host switch
        {
            "localhost" => IPAddress.Loopback,
            _ => IPAddress.TryParse(host, out var ip) ? ip : throw new ConfigException($"--urls: \"{url}\": use an IP address, localhost or *"),
        };
        if (address.Equals(IPAddress.IPv6Any) && !System.Net.Sockets.Socket.OSSupportsIPv6)
            address = IPAddress.Any;
        return new ListenAddress(address, uri.Port);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"https://{(Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{Address}]" : Address.ToString())}:{Port}");
}
