using ConfigInjector.Backends;
using ConfigInjector.Configuration;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Fakes;
using Microsoft.Extensions.Logging.Abstractions;

namespace ConfigInjector.Tests.Backends;

/// <summary>The conformance suite against the Key Vault fake, through the real SecretClient and ClientSecretCredential.</summary>
public class KeyVaultBackendTests : RemoteBackendConformanceTests
{
    private KeyVaultFake _keyVault = null!;
    private ISecretBackend _backend = null!;

    protected override ISecretBackend Backend => _backend;

    protected override bool MultipleKeys => false;

    public override async Task InitializeAsync()
    {
        _keyVault = await KeyVaultFake.StartAsync();
        _backend = KeyVaultTestBackends.Create(_keyVault);
        await ReadAsync("warm-up");
    }

    public override async Task DisposeAsync() => await _keyVault.DisposeAsync();

    protected override string PathFor(string name) => "conformance-" + name;

    protected override Task<string> WriteAsync(string path, IReadOnlyDictionary<string, string> data) =>
        Task.FromResult(_keyVault.Set(path, data[SecretDocument.SingleValueKey]));

    protected override Task TakeDownAsync() => _keyVault.StopAsync();

    protected override void MakeSlow(TimeSpan delay) => _keyVault.Delay = delay;

    protected override void Throttle(int requests) => _keyVault.Throttle(requests);
}

public sealed class KeyVaultBehaviourTests : IAsyncLifetime
{
    private KeyVaultFake _keyVault = null!;

    public async Task InitializeAsync() => _keyVault = await KeyVaultFake.StartAsync();

    public async Task DisposeAsync() => await _keyVault.DisposeAsync();

    private static Task<SecretRead> Read(ISecretBackend backend, string name, string? version = null) =>
        backend.ReadAsync(new SecretLocation(backend.Name, name, version), CancellationToken.None).AsTask();

    [Fact]
    public async Task Challenge_based_auth_gets_a_token_from_entra_once()
    {
        _keyVault.Set("db-password", "kv-only-password-2c9d");
        var backend = KeyVaultTestBackends.Create(_keyVault);

        await Read(backend, "db-password");
        await Read(backend, "db-password");

        Assert.Equal(1, _keyVault.Count("GET challenge"));
        Assert.Equal(1, _keyVault.Count("POST token"));
        Assert.Equal(2, _keyVault.Count("GET secret db-password"));
    }

    [Fact]
    public async Task Workload_identity_presents_the_federated_token_file()
    {
        _keyVault.Set("db-password", "kv-only-password-2c9d");
        var tokenFile = Path.Combine(ScratchDirectory.Create(), "azure-identity-token");
        await File.WriteAllTextAsync(tokenFile, KeyVaultFake.FederatedToken);
        var yaml = $$"""
            backends:
              - name: kv-wi
                type: azure-keyvault
                vaultUri: {{_keyVault.Address}}
                credential: workload-identity
                tenantId: {{KeyVaultFake.TenantId}}
                clientId: {{KeyVaultFake.ClientId}}
                tokenFile: {{tokenFile}}
                authorityHost: {{_keyVault.Address}}
                caFile: {{_keyVault.CaFile}}
                disableChallengeResourceVerification: true
            """;
        var backend = BackendRegistry.Default.CreateAll(ConfigFileReader.Parse(yaml, "injector.yaml", "/"), new BackendContext(TimeProvider.System, NullLoggerFactory.Instance, TestVersionKeys.Install))["kv-wi"];

        var read = await Read(backend, "db-password");

        Assert.Equal(ReadStatus.Found, read.Status);
        Assert.Equal(1, _keyVault.Count("POST token"));
    }

    [Fact]
    public async Task Disabled_and_expired_secrets_are_reported_as_such()
    {
        _keyVault.Set("disabled-one", "x");
        _keyVault.Disable("disabled-one");
        _keyVault.Set("expired-one", "y");
        _keyVault.Expire("expired-one");
        var backend = KeyVaultTestBackends.Create(_keyVault);

        var disabled = await Read(backend, "disabled-one");
        var expired = await Read(backend, "expired-one");

        Assert.Equal((ReadStatus.NotFound, "secret disabled-one is disabled"), (disabled.Status, disabled.Reason));
        Assert.Equal((ReadStatus.NotFound, "secret expired-one has expired"), (expired.Status, expired.Reason));
    }

    [Fact]
    public async Task A_wrong_client_secret_is_an_authentication_failure_in_one_line()
    {
        _keyVault.Set("db-password", "x");
        var backend = KeyVaultTestBackends.Create(_keyVault, clientSecret: "wrong");

        var read = await Read(backend, "db-password");

        Assert.Equal(ReadStatus.Failed, read.Status);
        Assert.StartsWith("Key Vault authentication failed: ", read.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", read.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong", read.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Names_that_cannot_be_key_vault_secrets_are_not_found_without_a_call()
    {
        var read = await Read(KeyVaultTestBackends.Create(_keyVault), "app/db");

        Assert.Equal((ReadStatus.NotFound, "\"app/db\" is not a Key Vault secret name (letters, digits and '-')"), (read.Status, read.Reason));
        Assert.Empty(_keyVault.Requests);
    }
}

/// <summary>Builds Key Vault backends from config text pointing at the fake, the way <c>config/injector.yaml</c> does.</summary>
internal static class KeyVaultTestBackends
{
    public static string ConfigYaml(KeyVaultFake keyVault, string name, string secretFile) => $"""
          - name: {name}
            type: azure-keyvault
            vaultUri: {keyVault.Address}
            credential: client-secret
            tenantId: {KeyVaultFake.TenantId}
            clientId: {KeyVaultFake.ClientId}
            clientSecretFile: {secretFile}
            authorityHost: {keyVault.Address}
            caFile: {keyVault.CaFile}
            disableChallengeResourceVerification: true
            timeout: 1500ms
            retry: {"{"} attempts: 3, baseDelay: 10ms {"}"}

        """;

    public static ISecretBackend Create(KeyVaultFake keyVault, string clientSecret = KeyVaultFake.ClientSecret)
    {
        var secretFile = Path.Combine(ScratchDirectory.Create(), "client-secret");
        File.WriteAllText(secretFile, clientSecret);
        var config = ConfigFileReader.Parse("backends:\n" + ConfigYaml(keyVault, "kv-test", secretFile), "injector.yaml", Path.GetTempPath());
        return BackendRegistry.Default.CreateAll(config, new BackendContext(TimeProvider.System, NullLoggerFactory.Instance, TestVersionKeys.Install))["kv-test"];
    }
}
