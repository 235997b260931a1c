using Xunit;

namespace ConfigInjector.TestSupport;

/// <summary>One webhook server per test class, on the examples, with a fixed version key so file versions are stable.</summary>
public sealed class WebhookFixture : IAsyncLifetime
{
    /// <summary>The seed of the version key every test install uses (the file <c>webhook-certs/dev/version-key</c> of its work folder).</summary>
    public static readonly byte[] VersionSeed = [.. Enumerable.Range(100, 32).Select(i => (byte)i)];

    private WebhookServer? _server;

    public WebhookServer Server => _server ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync() => _server = await WebhookServer.StartAsync(PinExampleVersions);

    public async Task DisposeAsync()
    {
        if (_server is not null)
            await _server.DisposeAsync();
    }

    /// <summary>Puts the test install's version key where the embedded default looks for it, so versions are the same in every run.</summary>
    public static void PinExampleVersions(string workDir)
    {
        var folder = Path.Combine(workDir, "webhook-certs", "dev");
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, "version-key"), VersionSeed);
    }
}
