using System.Globalization;
using System.Net;
using ConfigInjector.Configuration;

namespace ConfigInjector.Hosting;

/// <summary>An <c>https://host:port</c> from <c>--urls</c>; the webhook serves HTTPS only.</summary>
internal sealed record ListenAddress(IPAddress Address, int Port)
{
    public static IReadOnlyList<ListenAddress> ParseAll(IEnumerable<string> urls) =>
        [.. urls.SelectMany(u => u.Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Select(Parse)];

    public static ListenAddress Parse(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) && !Uri.TryCreate(url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out uri))
            throw new ConfigException($"--urls: \"{url}\" is not a URL like {ServeSettings.DefaultUrl}");
        if (uri.Scheme != "https")
            throw new ConfigException($"--urls: \"{url}\" is not https; the API server only calls webhooks over TLS");
        if (uri.AbsolutePath != "/")
            throw new ConfigException($"--urls: \"{url}\" must not have a path");
        var host = uri.Host.Trim('[', ']');
        var address = host switch
        {
            "localhost" => IPAddress.Loopback,
            "*" or "+" => IPAddress.Any,
            _ => IPAddress.TryParse(host, out var ip) ? ip : throw new ConfigException($"--urls: \"{url}\": use an IP address, localhost or *"),
        };
        return new ListenAddress(address, uri.Port);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"https://{(Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{Address}]" : Address.ToString())}:{Port}");
}
