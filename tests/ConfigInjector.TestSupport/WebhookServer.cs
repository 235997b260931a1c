using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using ConfigInjector.Hosting;
using ConfigInjector.ManagedSecrets;
using ConfigInjector.Tls;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace ConfigInjector.TestSupport;

/// <summary>
/// The real <c>serve</c> host on a loopback port over real TLS, in a scratch working directory that holds a copy
/// of the examples (so tests may edit files), with every log line captured.
/// </summary>
public sealed class WebhookServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private WebhookServer(WebApplication app, string workDir, FakeLoggerProvider logs, HttpClient client)
    {
        _app = app;
        WorkDir = workDir;
        Logs = logs;
        Client = client;
    }

    public string WorkDir { get; }
    public FakeLoggerProvider Logs { get; }
    public HttpClient Client { get; }
    public IServiceProvider Services => _app.Services;
    public InProcessManagedSecretStore Secrets => _app.Services.GetRequiredService<InProcessManagedSecretStore>();

    /// <summary>Every address the host listens on, as bound (the <c>--urls</c> ones first, then <c>--metrics-urls</c>).</summary>
    public IReadOnlyList<Uri> Addresses => [.. _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => new Uri(a))];

    /// <summary>Stops the replica as a crash would look to the others: no more lease renewals.</summary>
    public Task StopAsync() => _app.StopAsync();

    /// <param name="prepare">Edits the scratch directory (config, secrets, policies) before the host starts.</param>
    /// <param name="services">Replaces registrations after the host made them (e.g. <see cref="RecordingRefreshRequester.Register"/>).</param>
    /// <param name="configure">Sets configuration before the host reads it (e.g. the <c>OTEL_*</c> keys the environment would give).</param>
    public static async Task<WebhookServer> StartAsync(Action<string>? prepare = null, Func<ServeSettings, ServeSettings>? settings = null, Action<WebApplication>? mapExtra = null,
        Action<IServiceCollection>? services = null, Action<WebApplicationBuilder>? configure = null)
    {
        var workDir = ScratchDirectory.CreateWithExamples();
        prepare?.Invoke(workDir);
        var logs = new FakeLoggerProvider();
        var serve = new ServeSettings { Urls = ["https://127.0.0.1:0"], WorkingDirectory = workDir };
        serve = settings?.Invoke(serve) ?? serve;
        var app = WebhookHost.Build(serve, builder =>
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddProvider(logs);
            builder.Logging.SetMinimumLevel(LogLevel.Debug);
            configure?.Invoke(builder);
        }, mapExtra, services);
        await app.StartAsync();

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var client = TrustingClient(Path.Combine(workDir, "webhook-certs", "dev", "ca.crt"));
        client.BaseAddress = new Uri(address);
        return new WebhookServer(app, workDir, logs, client);
    }

    /// <summary>An HttpClient that trusts only the given CA, as the API server does with a caBundle, and presents <paramref name="certificate"/> when given.</summary>
    public static HttpClient TrustingClient(string caFile, X509Certificate2? certificate = null)
    {
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = CustomCaTrust.Validator(CustomCaTrust.LoadBundle(caFile));
        if (certificate is not null)
            handler.SslOptions.ClientCertificates = [certificate];
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>A client of this server that presents <paramref name="certificate"/> at the TLS handshake (a person, or the API server).</summary>
    public HttpClient ClientPresenting(X509Certificate2 certificate)
    {
        var client = TrustingClient(Path.Combine(WorkDir, "webhook-certs", "dev", "ca.crt"), certificate);
        client.BaseAddress = Client.BaseAddress;
        return client;
    }

    public Task<HttpResponseMessage> PostReviewAsync(string body) =>
        Client.PostAsync("/mutate-pods", new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json")));

    /// <summary>Every captured log line, formatted, with exception text.</summary>
    public string AllLogText() =>
        string.Join("\n", Logs.Collector.GetSnapshot().Select(r => $"{r.Category} {r.Message} {r.Exception}"));

    /// <summary>Fails when any log line (message or exception) holds text with this marker: the test values carry one.</summary>
    public void AssertNoValueInLogs(string valueMarker)
    {
        var leaked = Logs.Collector.GetSnapshot().Where(r => $"{r.Message} {r.Exception}".Contains(valueMarker, StringComparison.Ordinal)).Select(r => $"{r.Category}: {r.Message}").ToList();
        Xunit.Assert.True(leaked.Count == 0, "a secret value in the log: " + string.Join(" | ", leaked));
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        try
        {
            Directory.Delete(WorkDir, recursive: true);
        }
        catch (IOException)
        {
            // A leftover scratch folder in /tmp is harmless.
        }
    }
}
