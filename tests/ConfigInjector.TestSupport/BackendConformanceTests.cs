using ConfigInjector.Backends;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;
using Xunit;

namespace ConfigInjector.TestSupport;

/// <summary>
/// The cases every secret backend must pass, whatever it talks to. A backend's test class derives from this once
/// and says how to write a value, take the backend down, slow it and throttle it.
/// </summary>
public abstract class BackendConformanceTests : IAsyncLifetime
{
    /// <summary>The backend under test, configured against its fake.</summary>
    protected abstract ISecretBackend Backend { get; }

    /// <summary>Whether a path holds several keys (Vault, file) or one value (Key Vault).</summary>
    protected virtual bool MultipleKeys => true;

    protected virtual bool KeepsOldVersions => true;

    public abstract Task InitializeAsync();

    public abstract Task DisposeAsync();

    /// <summary>A path valid for this backend, built from a test-unique name.</summary>
    protected abstract string PathFor(string name);

    /// <summary>Writes a new value (a new version) and returns its version.</summary>
    protected abstract Task<string> WriteAsync(string path, IReadOnlyDictionary<string, string> data);

    protected abstract Task TakeDownAsync();

    protected Task<SecretRead> ReadAsync(string path, string? version = null) =>
        Backend.ReadAsync(new SecretLocation(Backend.Name, path, version), CancellationToken.None).AsTask();

    protected IReadOnlyDictionary<string, string> Data(string value, string key = "password") =>
        MultipleKeys ? new Dictionary<string, string> { ["user"] = "svc-user", [key] = value } : new Dictionary<string, string> { [SecretDocument.SingleValueKey] = value };

    protected string ValueOf(SecretRead read, string key = "password") => read.Document!.Data[MultipleKeys ? key : SecretDocument.SingleValueKey];

    [Fact]
    public async Task Get_returns_the_value_and_a_version()
    {
        var path = PathFor("get");
        var version = await WriteAsync(path, Data("conformance-secret-1"));

        var read = await ReadAsync(path);

        Assert.Equal(ReadStatus.Found, read.Status);
        Assert.Equal("conformance-secret-1", ValueOf(read));
        Assert.Equal(version, read.Document!.Version);
    }

    [Fact]
    public async Task A_missing_path_is_not_found_not_an_error()
    {
        var read = await ReadAsync(PathFor("never-written"));

        Assert.Equal(ReadStatus.NotFound, read.Status);
        Assert.False(string.IsNullOrWhiteSpace(read.Reason));
    }

    [Fact]
    public async Task A_missing_key_is_absent_from_the_document()
    {
        var path = PathFor("keys");
        await WriteAsync(path, Data("v"));

        var read = await ReadAsync(path);

        Assert.False(read.Document!.Data.ContainsKey("no-such-key"));
    }

    [Fact]
    public async Task A_new_version_is_read_as_latest_with_a_new_version_id()
    {
        var path = PathFor("rotate");
        var first = await WriteAsync(path, Data("before-rotation"));
        var second = await WriteAsync(path, Data("after-rotation"));

        var read = await ReadAsync(path);

        Assert.Equal("after-rotation", ValueOf(read));
        Assert.Equal(second, read.Document!.Version);
        Assert.NotEqual(first, second);
    }

    [Fact]
    public async Task A_specific_version_is_read_when_asked_for()
    {
        var path = PathFor("pinned");
        var first = await WriteAsync(path, Data("version-one"));
        await WriteAsync(path, Data("version-two"));

        var read = await ReadAsync(path, first);

        if (KeepsOldVersions)
        {
            Assert.Equal(ReadStatus.Found, read.Status);
            Assert.Equal("version-one", ValueOf(read));
            Assert.Equal(first, read.Document!.Version);
        }
        else
        {
            Assert.Equal(ReadStatus.NotFound, read.Status);
        }
    }

    [Fact]
    public async Task A_one_mebibyte_value_round_trips()
    {
        var path = PathFor("large");
        var large = string.Concat(Enumerable.Range(0, 1024 * 1024 / 16).Select(i => $"{i:x15}-"));
        await WriteAsync(path, Data(large));

        Assert.Equal(large, ValueOf(await ReadAsync(path)));
    }

    [Fact]
    public async Task Unicode_values_round_trip()
    {
        var path = PathFor("unicode");
        const string value = "pässwörd-🔐-密码-\"quoted\"\n\tline";
        await WriteAsync(path, Data(value));

        Assert.Equal(value, ValueOf(await ReadAsync(path)));
    }

    [Fact]
    public async Task A_backend_that_is_down_is_a_failure_with_a_reason()
    {
        var path = PathFor("down");
        await WriteAsync(path, Data("v"));
        await TakeDownAsync();

        var read = await ReadAsync(path);

        Assert.Equal(ReadStatus.Failed, read.Status);
        Assert.False(string.IsNullOrWhiteSpace(read.Reason));
        Assert.DoesNotContain("\n", read.Reason, StringComparison.Ordinal);
    }
}

/// <summary>The extra cases of a backend reached over the network: slowness and throttling.</summary>
public abstract class RemoteBackendConformanceTests : BackendConformanceTests
{
    protected abstract void MakeSlow(TimeSpan delay);

    protected abstract void Throttle(int requests);

    [Fact]
    public async Task A_slow_backend_times_out_as_a_failure()
    {
        var path = PathFor("slow");
        await WriteAsync(path, Data("v"));
        MakeSlow(TimeSpan.FromSeconds(5));

        var read = await ReadAsync(path);

        Assert.Equal(ReadStatus.Failed, read.Status);
        Assert.Contains("within", read.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_throttled_backend_is_retried()
    {
        var path = PathFor("throttled");
        await WriteAsync(path, Data("after-throttle"));
        Throttle(2);

        var read = await ReadAsync(path);

        Assert.Equal(ReadStatus.Found, read.Status);
        Assert.Equal("after-throttle", ValueOf(read));
    }
}
