using ConfigInjector.Backends;
using ConfigInjector.Configuration;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Fakes;
using Microsoft.Extensions.Logging.Abstractions;

namespace ConfigInjector.Tests.Backends;

/// <summary>
/// The Vault client reads KV secrets and nothing else, and its credentials never reach another host: no reads
/// outside KV mounts (whatever kvVersion says), no redirects followed, no plain http unless configured, bounded answers.
/// </summary>
public sealed class VaultHardeningTests : IAsyncLifetime
{
    private VaultFake _vault = null!;

    public async Task InitializeAsync()
    {
        _vault = await VaultFake.StartAsync();
        _vault.EnableKv("secret", 2);
        _vault.EnableKv("kv", 1);
        _vault.EnableEngine("database", "database");
        _vault.Put("kv/app/db", new Dictionary<string, string> { ["password"] = "kv-one-value" });
        _vault.Put("secret/app/db", new Dictionary<string, string> { ["password"] = "kv-two-value" });
    }

    public async Task DisposeAsync() => await _vault.DisposeAsync();

    private ISecretBackend Backend(string kvVersion) => VaultTestBackends.Create(_vault, $$"""
        kvVersion: "{{kvVersion}}"
        retry: { attempts: 1, baseDelay: 10ms }
        auth: { token: { file: {{VaultTestBackends.TokenFile(VaultFake.RootToken)}} } }
        """);

    private static Task<SecretRead> Read(ISecretBackend backend, string path) =>
        backend.ReadAsync(new SecretLocation(backend.Name, path, null), CancellationToken.None).AsTask();

    [Theory]
    [InlineData("1", "auth/token/lookup-self")]
    [InlineData("2", "auth/token/lookup-self")]
    [InlineData("auto", "auth/token/lookup-self")]
    [InlineData("1", "sys/config/state")]
    [InlineData("1", "identity/entity/name/admin")]
    [InlineData("1", "cubbyhole/mine")]
    public async Task Vaults_own_mounts_are_refused_without_asking_vault(string kvVersion, string path)
    {
        var backend = Backend(kvVersion);
        // One ordinary read first: the token file's own lookup-self is done by then.
        await Read(backend, kvVersion == "2" ? "secret/app/db" : "kv/app/db");
        var before = _vault.Requests.Count;

        var read = await Read(backend, path);

        Assert.Equal(ReadStatus.NotFound, read.Status);
        Assert.Null(read.Document);
        Assert.Contains("not a KV secrets engine; only KV secrets are read", read.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(VaultFake.RootToken, read.Reason, StringComparison.Ordinal);
        Assert.Equal(before, _vault.Requests.Count);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("2")]
    [InlineData("auto")]
    public async Task A_non_kv_engine_is_never_read_whatever_kv_version_says(string kvVersion)
    {
        var read = await Read(Backend(kvVersion), "database/creds/app");

        Assert.Equal(ReadStatus.NotFound, read.Status);
        Assert.Equal("database is a database secrets engine, not KV; reading it needs a SecretPolicy rule with dynamic: true for database/creds/app", read.Reason);
        Assert.Equal(0, _vault.Count("GET database/creds"));
    }

    [Fact]
    public async Task A_path_in_no_mount_vault_shows_is_not_read()
    {
        var read = await Read(Backend("1"), "nothing/here");

        Assert.Equal(ReadStatus.Failed, read.Status);
        Assert.StartsWith("vault HTTP 403: preflight capability check returned 403", read.Reason, StringComparison.Ordinal);
        Assert.Equal(0, _vault.Count("GET nothing/"));
    }

    [Fact]
    public async Task An_explicit_kv_version_vault_contradicts_is_refused_and_kv_mounts_still_read()
    {
        var wrong = await Read(Backend("1"), "secret/app/db");
        var right = await Read(Backend("2"), "secret/app/db");
        var v1 = await Read(Backend("1"), "kv/app/db");

        Assert.Equal((ReadStatus.NotFound, "secret is a KV v2 mount, but the backend says kvVersion 1"), (wrong.Status, wrong.Reason));
        Assert.Equal("kv-two-value", right.Document!.Data["password"]);
        Assert.Equal("kv-one-value", v1.Document!.Data["password"]);
    }

    [Fact]
    public async Task A_refused_ref_denies_the_pod_in_every_on_backend_error_mode()
    {
        await using var server = await VaultWebhook.StartAsync(_vault, ["kvVersion: \"1\""], paths: "**", onBackendError: "skip");

        var result = await server.ReviewPodAsync(TestSupport.Builders.PodBuilder.Injected().WithAnnotation("configinjector.io/secret.TOKEN", "vault-prod:auth/token/lookup-self#id"));

        Assert.Equal(System.Net.HttpStatusCode.OK, result.HttpStatus);
        result.AssertDenied();
        Assert.Equal(403, result.Code);
        Assert.Contains("auth/ is Vault's own auth mount, not a KV secrets engine", result.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(VaultFake.RootToken, server.AllLogText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_redirect_is_not_followed_so_neither_token_nor_login_jwt_reaches_the_other_host()
    {
        await using var elsewhere = await VaultFake.StartAsync();
        _vault.RedirectTo = elsewhere.Address;
        var jwtFile = VaultTestBackends.TokenFile("service-account-jwt");
        var withToken = Backend("2");
        var withLogin = VaultTestBackends.Create(_vault, $$"""
            retry: { attempts: 1, baseDelay: 10ms }
            auth: { kubernetes: { role: injector, tokenFile: {{jwtFile}} } }
            """);

        var tokenRead = await Read(withToken, "secret/app/db");
        var loginRead = await Read(withLogin, "secret/app/db");

        Assert.Equal(ReadStatus.Failed, tokenRead.Status);
        Assert.Contains("answered HTTP 307 redirecting to", tokenRead.Reason, StringComparison.Ordinal);
        Assert.Contains("redirects are not followed", loginRead.Reason, StringComparison.Ordinal);
        Assert.Empty(elsewhere.Requests);
    }

    [Fact]
    public async Task An_answer_over_four_mebibytes_is_not_read()
    {
        _vault.OversizeBytes = 5 * 1024 * 1024;

        var read = await Read(Backend("2"), "secret/app/db");

        Assert.Equal(ReadStatus.Failed, read.Status);
        Assert.EndsWith("answered with more than 4194304 bytes; not read", read.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_plain_http_address_is_refused_unless_the_config_allows_it_explicitly()
    {
        static IReadOnlyDictionary<string, ISecretBackend> Create(string extra) => BackendRegistry.Default.CreateAll(
            ConfigFileReader.Parse($"backends:\n  - name: v\n    type: vault\n    address: http://127.0.0.1:8200\n    auth: {{ token: {{ file: /dev/null }} }}\n{extra}", "injector.yaml", Path.GetTempPath()),
            new BackendContext(TimeProvider.System, NullLoggerFactory.Instance, TestVersionKeys.Install));

        var refused = Assert.Throws<ConfigException>(() => Create(""));
        var allowed = Create("    allowPlainHttp: true\n");

        Assert.Equal("injector.yaml:4:14: backends[0].address: \"http://127.0.0.1:8200\" is plain http, which would send the Vault token in clear; use https, or set allowPlainHttp: true where a service mesh encrypts the connection", refused.Message);
        Assert.Single(allowed);
    }
}
