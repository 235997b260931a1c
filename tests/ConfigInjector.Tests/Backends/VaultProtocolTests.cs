using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;
using ConfigInjector.TestSupport.Fakes;

namespace ConfigInjector.Tests.Backends;

/// <summary>Vault behaviours beyond the conformance suite: KV v1, auto-detected mounts, deleted versions, namespaces, error bodies.</summary>
public sealed class VaultProtocolTests : IAsyncLifetime
{
    private VaultFake _vault = null!;

    public async Task InitializeAsync()
    {
        _vault = await VaultFake.StartAsync();
        _vault.EnableKv("secret", 2);
        _vault.EnableKv("kv", 1);
        _vault.EnableKv("team/apps", 2);
    }

    public async Task DisposeAsync() => await _vault.DisposeAsync();

    private ConfigInjector.Backends.ISecretBackend Backend(string extra = "") => VaultTestBackends.Create(_vault, $$"""
        retry: { attempts: 2, baseDelay: 10ms }
        auth: { token: { file: {{VaultTestBackends.TokenFile(VaultFake.RootToken)}} } }
        {{extra}}
        """);

    private static Task<SecretRead> Read(ConfigInjector.Backends.ISecretBackend backend, string path, string? version = null) =>
        backend.ReadAsync(new SecretLocation(backend.Name, path, version), CancellationToken.None).AsTask();

    [Fact]
    public async Task Auto_detects_kv_v1_and_v2_mounts_once_per_path_including_nested_mounts()
    {
        _vault.EnableKv("secret/legacy", 1);
        _vault.Put("secret/app/db", new Dictionary<string, string> { ["password"] = "v2-value" });
        _vault.Put("kv/app/db", new Dictionary<string, string> { ["password"] = "v1-value" });
        _vault.Put("team/apps/web", new Dictionary<string, string> { ["token"] = "multi-segment-mount" });
        _vault.Put("secret/legacy/db", new Dictionary<string, string> { ["password"] = "nested-v1-mount" });
        var backend = Backend();

        Assert.Equal("v2-value", (await Read(backend, "secret/app/db")).Document!.Data["password"]);
        Assert.Equal("v1-value", (await Read(backend, "kv/app/db")).Document!.Data["password"]);
        Assert.Equal("multi-segment-mount", (await Read(backend, "team/apps/web")).Document!.Data["token"]);
        Assert.Equal("nested-v1-mount", (await Read(backend, "secret/legacy/db")).Document!.Data["password"]);
        Assert.Equal("v2-value", (await Read(backend, "secret/app/db")).Document!.Data["password"]);

        Assert.Equal(4, _vault.Count("GET sys/internal/ui/mounts/"));
        Assert.Equal(2, _vault.Count("GET secret/data/app/db"));
        Assert.Equal(1, _vault.Count("GET secret/legacy/db"));
    }

    [Fact]
    public async Task Kv_v1_has_a_content_version_and_refuses_pinned_versions()
    {
        _vault.Put("kv/app/db", new Dictionary<string, string> { ["password"] = "one" });
        var backend = Backend("kvVersion: \"1\"");

        var first = await Read(backend, "kv/app/db");
        var again = await Read(backend, "kv/app/db");
        _vault.Put("kv/app/db", new Dictionary<string, string> { ["password"] = "two" });
        var changed = await Read(backend, "kv/app/db");
        var pinned = await Read(backend, "kv/app/db", "3");

        Assert.Equal(first.Document!.Version, again.Document!.Version);
        Assert.NotEqual(first.Document.Version, changed.Document!.Version);
        Assert.DoesNotContain("one", first.Document.Version, StringComparison.Ordinal);
        Assert.Equal((ReadStatus.NotFound, "kv is a KV v1 mount, which keeps no versions"), (pinned.Status, pinned.Reason));
    }

    [Fact]
    public async Task Deleted_and_destroyed_versions_are_not_found_with_the_reason()
    {
        _vault.Put("secret/app/db", new Dictionary<string, string> { ["password"] = "1" });
        _vault.Put("secret/app/db", new Dictionary<string, string> { ["password"] = "2" });
        _vault.Put("secret/app/db", new Dictionary<string, string> { ["password"] = "3" });
        _vault.DeleteVersion("secret/app/db", 3);
        _vault.DestroyVersion("secret/app/db", 1);
        var backend = Backend();

        var latest = await Read(backend, "secret/app/db");
        var destroyed = await Read(backend, "secret/app/db", "1");
        var second = await Read(backend, "secret/app/db", "2");
        var missing = await Read(backend, "secret/app/db", "9");

        Assert.Equal(ReadStatus.NotFound, latest.Status);
        Assert.StartsWith("version 3 of secret/app/db was deleted at ", latest.Reason, StringComparison.Ordinal);
        Assert.Equal("version 1 of secret/app/db was destroyed", destroyed.Reason);
        Assert.Equal(("2", "2"), (second.Document!.Version, second.Document.Data["password"]));
        Assert.Equal("no version 9 of secret/app/db", missing.Reason);
    }

    [Fact]
    public async Task The_namespace_header_is_sent()
    {
        _vault.RequiredNamespace = "team-a";
        _vault.Put("secret/app/db", new Dictionary<string, string> { ["password"] = "ns" });

        Assert.Equal(ReadStatus.Failed, (await Read(Backend(), "secret/app/db")).Status);
        Assert.Equal("ns", (await Read(Backend("namespace: team-a"), "secret/app/db")).Document!.Data["password"]);
    }

    [Fact]
    public async Task A_sealed_vault_is_retried_then_reported_in_one_line()
    {
        _vault.Put("secret/app/db", new Dictionary<string, string> { ["password"] = "x" });
        _vault.Sealed = true;

        var read = await Read(Backend("kvVersion: \"2\""), "secret/app/db");

        Assert.Equal((ReadStatus.Failed, "cannot detect the KV mount of secret/app/db: vault HTTP 503: Vault is sealed"), (read.Status, read.Reason));
        Assert.Equal(2, _vault.Count("GET sys/internal/ui/mounts/secret/app/db"));
    }

    [Fact]
    public async Task Permission_denied_says_what_the_role_cannot_read()
    {
        _vault.Put("secret/app/db", new Dictionary<string, string> { ["password"] = "denied-by-policy" });
        _vault.Put("secret/app/other", new Dictionary<string, string> { ["password"] = "allowed" });
        _vault.DenyRead("secret/data/app/db");
        var backend = Backend("kvVersion: \"2\"");

        var denied = await Read(backend, "secret/app/db");
        var allowed = await Read(backend, "secret/app/other");

        // A valid token that the Vault policy does not let read the path: the fake's ACL answers 403, as Vault's does.
        Assert.Equal((ReadStatus.Failed, "vault HTTP 403: 1 error occurred: * permission denied (the Vault policy of this role does not allow reading secret/app/db)"), (denied.Status, denied.Reason));
        Assert.Null(denied.Document);
        Assert.Equal(ReadStatus.Found, allowed.Status);
        Assert.Equal(1, _vault.Count("GET secret/data/app/db"));
    }

    [Fact]
    public async Task A_token_vault_does_not_know_is_a_403_on_the_mount_lookup()
    {
        var read = await Read(VaultTestBackends.Create(_vault, $$"""
            kvVersion: "2"
            auth: { token: { file: {{VaultTestBackends.TokenFile("hvs.not-a-token")}} } }
            """), "secret/app/db");

        Assert.Equal((ReadStatus.Failed, "vault HTTP 403: permission denied (the Vault policy of this role does not allow reading secret/app/db)"), (read.Status, read.Reason));
        Assert.Equal(0, _vault.Count("GET secret/data/app/db"));
    }

    [Fact]
    public async Task Throttling_honours_retry_after()
    {
        _vault.Put("secret/app/db", new Dictionary<string, string> { ["password"] = "x" });
        _vault.Throttle(1, retryAfterSeconds: 1);
        var started = DateTime.UtcNow;

        var read = await Read(Backend("kvVersion: \"2\""), "secret/app/db");

        Assert.Equal(ReadStatus.Found, read.Status);
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromSeconds(0.9), "the retry waited for Retry-After");
    }
}
