using System.Net;
using ConfigInjector.Tls;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ConfigInjector.TestSupport.Fakes;

/// <summary>
/// The host every protocol fake runs on: Kestrel over HTTPS on 127.0.0.1 with a certificate from a private CA
/// whose PEM is written to <see cref="CaFile"/>, so clients are configured exactly as against a real server.
/// </summary>
public sealed class LoopbackHttpsServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LoopbackHttpsServer(WebApplication app, Uri address, string caFile, string folder)
    {
        _app = app;
        Address = address;
        CaFile = caFile;
        Folder = folder;
    }

    public Uri Address { get; }
    public string CaFile { get; }
    public string Folder { get; }

    public static async Task<LoopbackHttpsServer> StartAsync(Action<WebApplication> map, int port = 0, string? folder = null)
    {
        folder ??= ScratchDirectory.Create();
        var now = DateTimeOffset.UtcNow;
        using var authority = CertificateFactory.CreateAuthority("fake server CA", TimeSpan.FromDays(2), now);
        var serving = CertificateFactory.CreateServing(authority, ["localhost"], [IPAddress.Loopback], TimeSpan.FromDays(1), now);
        var caFile = Path.Combine(folder, "ca.crt");
        await File.WriteAllTextAsync(caFile, authority.ExportCertificatePem() + "\n");

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l => l.UseHttps(serving)));
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return new LoopbackHttpsServer(app, address, caFile, folder);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
