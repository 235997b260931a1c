using ConfigInjector.Cli;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Fakes;

namespace ConfigInjector.Tests.Cli;

public class ResolveCommandTests
{
    private static readonly string Config = Path.Combine(RepoPaths.Examples, "injector.yaml");

    private static Task<(int Code, string Out, string Err)> Run(params string[] args) => CliRunner.RunAsync(args);

    [Fact]
    public async Task Prints_version_and_keys_but_not_the_value()
    {
        var (code, output, _) = await Run("resolve", "dev:app/db#password", "--config", Config);

        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("backend:  dev (type file, sensitive)", output, StringComparison.Ordinal);
        Assert.Contains("keys:     password, user", output, StringComparison.Ordinal);
        Assert.Contains("value:    (hidden; --show-value prints it)", output, StringComparison.Ordinal);
        Assert.DoesNotContain("dev-only-db-password-7f3a", output, StringComparison.Ordinal);
        Assert.Contains("key:      password\n", output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.DoesNotContain("characters", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Show_value_prints_it()
    {
        var (code, output, _) = await Run("resolve", "dev:app/db#password", "--config", Config, "--show-value");

        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("value:    dev-only-db-password-7f3a", output, StringComparison.Ordinal);
        Assert.Contains("key:      password (25 characters)", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("dev:app/nothing#x", "configinjector: dev:app/nothing#x: not found: no path \"app/nothing\" in dev-secrets.yaml")]
    [InlineData("dev:app/db#nokey", "configinjector: dev:app/db#nokey: the path has no key \"nokey\"")]
    [InlineData("dev:app/db", "configinjector: dev:app/db: the path holds 2 keys; name one with #<key>")]
    public async Task A_ref_that_does_not_resolve_exits_1_with_the_reason(string reference, string error)
    {
        var (code, _, stderr) = await Run("resolve", reference, "--config", Config);

        Assert.Equal(ExitCodes.Failed, code);
        Assert.Equal(error + "\n", stderr);
    }

    [Theory]
    [InlineData("dev:app/db#", "configinjector: dev:app/db#: the key after '#' is empty")]
    [InlineData("vault:secret/x#y", "configinjector: vault:secret/x#y: backend \"vault\" is not configured (configured: dev)")]
    public async Task A_malformed_ref_or_unknown_backend_exits_2(string reference, string error)
    {
        var (code, _, stderr) = await Run("resolve", reference, "--config", Config);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal(error + "\n", stderr);
    }

    [Fact]
    public async Task Resolves_against_vault_and_reports_its_failures()
    {
        await using var vault = await VaultFake.StartAsync();
        vault.EnableKv("secret", 2);
        vault.Put("secret/app/db", new Dictionary<string, string> { ["password"] = "a" });
        vault.Put("secret/app/db", new Dictionary<string, string> { ["password"] = "b" });
        var dir = ScratchDirectory.Create();
        await File.WriteAllTextAsync(Path.Combine(dir, "token"), VaultFake.RootToken);
        var config = Path.Combine(dir, "injector.yaml");
        await File.WriteAllTextAsync(config, $$"""
            backends:
              - name: vault-prod
                type: vault
                address: {{vault.Address}}
                caFile: {{vault.CaFile}}
                retry: { attempts: 1 }
                auth: { token: { file: token } }
            """);

        var (code, output, _) = await Run("resolve", "vault-prod:secret/app/db#password", "--config", config);
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("version:  2", output, StringComparison.Ordinal);

        vault.Sealed = true;
        var (failed, _, stderr) = await Run("resolve", "vault-prod:secret/app/db#password", "--config", config);
        Assert.Equal(ExitCodes.Failed, failed);
        Assert.Equal("configinjector: vault-prod:secret/app/db#password: backend error: cannot detect the KV mount of secret/app/db: vault HTTP 503: Vault is sealed\n", stderr);
    }
}
