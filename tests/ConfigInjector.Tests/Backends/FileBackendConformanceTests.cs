using ConfigInjector.Backends;
using ConfigInjector.Backends.Files;
using ConfigInjector.Core.Secrets;
using ConfigInjector.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using YamlDotNet.Serialization;

namespace ConfigInjector.Tests.Backends;

/// <summary>The conformance suite for the file backend: a version is a keyed HMAC of the content, only the current one is kept.</summary>
public class FileBackendConformanceTests : BackendConformanceTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly Dictionary<string, IReadOnlyDictionary<string, string>> _content = [];
    private string _file = null!;
    private ISecretBackend _backend = null!;
    private long _stamp = 1_700_000_000_000;

    protected override ISecretBackend Backend => _backend;

    protected override bool KeepsOldVersions => false;

    public override Task InitializeAsync()
    {
        _file = Path.Combine(ScratchDirectory.Create(), "secrets.yaml");
        WriteFile();
        _backend = new FileBackend("files", _file, TestVersionKeys.Install, _time, NullLogger<FileBackend>.Instance);
        return Task.CompletedTask;
    }

    public override Task DisposeAsync() => Task.CompletedTask;

    protected override string PathFor(string name) => "conformance/" + name;

    protected override Task<string> WriteAsync(string path, IReadOnlyDictionary<string, string> data)
    {
        _content[path] = data;
        WriteFile();
        _time.Advance(TimeSpan.FromSeconds(1));
        return Task.FromResult(ContentVersion.Of(ContentVersion.DeriveKey(TestVersionKeys.Seed), data));
    }

    protected override Task TakeDownAsync()
    {
        File.Delete(_file);
        _time.Advance(TimeSpan.FromSeconds(1));
        return Task.CompletedTask;
    }

    private void WriteFile()
    {
        File.WriteAllText(_file, new SerializerBuilder().Build().Serialize(_content));
        _stamp += 1000;
        File.SetLastWriteTimeUtc(_file, DateTimeOffset.FromUnixTimeMilliseconds(_stamp).UtcDateTime);
    }
}
