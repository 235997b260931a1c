using ConfigInjector.Backends.Files;
using ConfigInjector.Configuration;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;
using ConfigInjector.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace ConfigInjector.Tests.Backends;

public sealed class FileBackendTests : IDisposable
{
    private readonly string _dir = ScratchDirectory.Create();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-11-26T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private string File => Path.Combine(_dir, "secrets.yaml");

    private FileBackend Create(string yaml)
    {
        System.IO.File.WriteAllText(File, yaml);
        System.IO.File.SetLastWriteTimeUtc(File, new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        return new FileBackend("dev", File, TestVersionKeys.Install, _time, NullLogger<FileBackend>.Instance);
    }

    private static Task<SecretRead> Read(FileBackend backend, string path, string? version = null) =>
        backend.ReadAsync(new SecretLocation("dev", path, version), CancellationToken.None).AsTask();

    private static string VersionOf(Dictionary<string, string> data) => ContentVersion.Of(ContentVersion.DeriveKey(TestVersionKeys.Seed), data);

    [Fact]
    public async Task Reads_a_path_with_all_its_keys_and_a_version_keyed_on_its_content()
    {
        var backend = Create("app/db:\n  user: u\n  password: \"p w ✓\"\n");

        var read = await Read(backend, "app/db");

        Assert.Equal(ReadStatus.Found, read.Status);
        Assert.Equal(VersionOf(new() { ["user"] = "u", ["password"] = "p w ✓" }), read.Document!.Version);
        Assert.Equal(new Dictionary<string, string> { ["user"] = "u", ["password"] = "p w ✓" }, read.Document.Data);
    }

    [Fact]
    public async Task A_missing_path_or_version_is_not_found_with_a_reason()
    {
        var backend = Create("app/db:\n  user: u\n");

        var missing = await Read(backend, "app/nope");
        var oldVersion = await Read(backend, "app/db", "1");

        Assert.Equal((ReadStatus.NotFound, "no path \"app/nope\" in secrets.yaml"), (missing.Status, missing.Reason));
        var current = VersionOf(new() { ["user"] = "u" });
        Assert.Equal((ReadStatus.NotFound, $"version 1 is not available; the file backend keeps only the current version ({current})"), (oldVersion.Status, oldVersion.Reason));
        Assert.Equal(ReadStatus.Found, (await Read(backend, "app/db", current)).Status);
    }

    [Fact]
    public async Task Reloads_when_the_file_changes_and_only_changed_paths_get_a_new_version()
    {
        var backend = Create("app/db:\n  user: u\napp/api:\n  token: t1\n");
        System.IO.File.WriteAllText(File, "app/db:\n  user: u\napp/api:\n  token: t2\n");
        System.IO.File.SetLastWriteTimeUtc(File, new DateTime(2026, 2, 1, 0, 0, 0, DateTimeKind.Utc));

        Assert.Equal("t1", (await Read(backend, "app/api")).Document!.Data["token"]);
        _time.Advance(TimeSpan.FromSeconds(1));
        var api = await Read(backend, "app/api");
        var db = await Read(backend, "app/db");

        Assert.Equal(("t2", VersionOf(new() { ["token"] = "t2" })), (api.Document!.Data["token"], api.Document.Version));
        Assert.Equal(VersionOf(new() { ["user"] = "u" }), db.Document!.Version);
    }

    [Fact]
    public async Task A_broken_file_keeps_the_previous_content()
    {
        var backend = Create("app/db:\n  user: u\n");
        System.IO.File.WriteAllText(File, "app/db: [\n");
        System.IO.File.SetLastWriteTimeUtc(File, new DateTime(2026, 2, 1, 0, 0, 0, DateTimeKind.Utc));
        _time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal("u", (await Read(backend, "app/db")).Document!.Data["user"]);
    }

    [Theory]
    [InlineData("app/db:\n  user: [a, b]\n", ":2:9: app/db#user: the value must be a string")]
    [InlineData("app/db: hello\n", ":1:9: app/db: expected a mapping of key -> value")]
    [InlineData("- a\n", ":1:1: expected a mapping of secret path -> {key: value}")]
    public void An_invalid_file_fails_at_start_with_its_position(string yaml, string error)
    {
        var message = Assert.Throws<ConfigException>(() => Create(yaml)).Message;

        Assert.EndsWith(error, message, StringComparison.Ordinal);
        Assert.DoesNotContain("[a, b]", message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_dir, true);
}
