using ConfigInjector.Cli;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Fakes;

namespace ConfigInjector.Tests.Dynamic;

/// <summary>
/// <c>configinjector resolve</c> on a ref in Vault's database engine: it says the ref is dynamic and issues nothing;
/// with <c>--issue</c> one credential is issued, shown without its secrets, and revoked before the command exits, so
/// nothing outlives the command; only <c>--show-value</c> prints the value and the lease id.
/// </summary>
public sealed class ResolveDynamicTests : IAsyncLifetime
{
    private const string Username = "vault-prod:database/creds/shop#username";

    private VaultFake _vault = null!;
    private string _config = null!;

    public async Task InitializeAsync()
    {
        _vault = await VaultFake.StartAsync();
        _vault.AddDatabaseRole("database", "shop", TimeSpan.FromHours(1), TimeSpan.FromHours(24));
        _vault.EnableKv("secret", 2);
        _vault.Put("secret/shop/api", new Dictionary<string, string> { ["key"] = "kv-value" });
        var dir = ScratchDirectory.Create();
        await File.WriteAllTextAsync(Path.Combine(dir, "token"), VaultFake.RootToken);
        _config = Path.Combine(dir, "injector.yaml");
        await File.WriteAllTextAsync(_config, VaultWebhook.BackendConfig(_vault, Path.Combine(dir, "token"), "vault-prod", "kvVersion: auto", "retry: { attempts: 1 }"));
    }

    public async Task DisposeAsync() => await _vault.DisposeAsync();

    private Task<(int Code, string Out, string Err)> Resolve(params string[] args) => CliRunner.RunAsync(["resolve", .. args, "--config", _config]);

    [Fact]
    public async Task Without_issue_it_says_the_ref_is_dynamic_and_issues_nothing()
    {
        var (code, output, stderr) = await Resolve(Username);

        Assert.True(code == ExitCodes.Ok, stderr);
        Assert.Contains("dynamic:  database engine at database/: every read issues a new credential with a lease", output, StringComparison.Ordinal);
        Assert.Contains("value:    (nothing issued; --issue issues one credential", output, StringComparison.Ordinal);
        Assert.Equal(0, _vault.CredentialsIssued);
    }

    [Fact]
    public async Task Issue_shows_the_lease_without_its_secrets_and_revokes_it_before_exiting()
    {
        var (code, output, stderr) = await Resolve(Username, "--issue");

        Assert.True(code == ExitCodes.Ok, stderr);
        Assert.Equal(1, _vault.CredentialsIssued);
        Assert.Equal(0, _vault.LiveLeases);
        Assert.Matches(@"lease:    ttl 1h, renewable, expires \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(in (1h|59m5\ds)\)", output);
        Assert.Contains("value:    (hidden; --show-value prints it)", output, StringComparison.Ordinal);
        Assert.Matches("revoked:  lease-[0-9a-f]{10}, at exit", output);
        foreach (var secret in _vault.IssuedCredentials.Concat(_vault.LeaseIds))
            Assert.DoesNotContain(secret, output + stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Show_value_prints_the_issued_value_and_lease_id_and_still_revokes()
    {
        var (code, output, stderr) = await Resolve(Username, "--issue", "--show-value");

        Assert.True(code == ExitCodes.Ok, stderr);
        var leaseId = Assert.Single(_vault.LeaseIds);
        Assert.Contains($"lease id: {leaseId}", output, StringComparison.Ordinal);
        Assert.Contains(_vault.IssuedCredentials, c => output.Contains($"value:    {c}", StringComparison.Ordinal));
        Assert.Equal(0, _vault.LiveLeases);
    }

    [Fact]
    public async Task A_credential_whose_key_is_not_named_exits_1_and_is_revoked_all_the_same()
    {
        var (code, _, stderr) = await Resolve("vault-prod:database/creds/shop", "--issue");

        Assert.Equal(ExitCodes.Failed, code);
        Assert.Contains("configinjector: vault-prod:database/creds/shop: the credential holds 2 keys; name one with #<key>", stderr, StringComparison.Ordinal);
        Assert.Equal(1, _vault.CredentialsIssued);
        Assert.Equal(0, _vault.LiveLeases);
    }

    [Fact]
    public async Task A_revocation_that_fails_exits_1_saying_until_when_the_credential_works()
    {
        _vault.OnRequest = path => _vault.Sealed |= path == "sys/leases/revoke";

        var (code, _, stderr) = await Resolve(Username, "--issue");

        Assert.Equal(ExitCodes.Failed, code);
        Assert.Matches(@"^configinjector: vault-prod:database/creds/shop#username: could not revoke lease-[0-9a-f]{10} \(.*sealed.*\); the credential works until \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ; --show-value prints its lease id\n$", stderr);
        Assert.Equal(1, _vault.LiveLeases);
        Assert.DoesNotContain(Assert.Single(_vault.LeaseIds), stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Issue_on_a_kv_ref_is_a_usage_error()
    {
        var (code, output, stderr) = await Resolve("vault-prod:secret/shop/api#key", "--issue");

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("configinjector: --issue: vault-prod:secret/shop/api#key is a KV secret, read and not issued; drop --issue\n", stderr);
        Assert.Equal("", output);
    }

    [Fact]
    public async Task A_path_in_no_engine_is_still_not_found()
    {
        var (code, _, stderr) = await Resolve("vault-prod:sys/policy/default#x", "--issue");

        Assert.Equal(ExitCodes.Failed, code);
        Assert.StartsWith("configinjector: vault-prod:sys/policy/default#x: not found: sys/ is Vault's own sys mount", stderr, StringComparison.Ordinal);
        Assert.Equal(0, _vault.CredentialsIssued);
    }
}
