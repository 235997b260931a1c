using Xunit;

namespace ConfigInjector.TestSupport;

/// <summary>One webhook server per test class, on the examples, with a fixed modification time so file versions are stable.</summary>
public sealed class WebhookFixture : IAsyncLifetime
{
    /// <summary>The file backend's version of every path of the examples in these tests (the pinned mtime in unix ms).</summary>
    public const string ExampleVersion = "1767225600000";

    private WebhookServer? _server;

    public WebhookServer Server => _server ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync() => _server = await WebhookServer.StartAsync(PinExampleVersions);

    public async Task DisposeAsync()
    {
        if (_server is not null)
            await _server.DisposeAsync();
    }

    public static void PinExampleVersions(string workDir) =>
        File.SetLastWriteTimeUtc(Path.Combine(workDir, "examples", "dev-secrets.yaml"), DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(ExampleVersion, System.Globalization.CultureInfo.InvariantCulture)).UtcDateTime);
}
