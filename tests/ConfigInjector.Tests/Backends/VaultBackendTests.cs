using ConfigInjector.Backends;
using ConfigInjector.Configuration;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Fakes;
using Microsoft.Extensions.Logging.Abstractions;

namespace ConfigInjector.Tests.Backends;

/// <summary>The conformance suite against the Vault fake, KV v2 with token auth.</summary>
public class VaultBackendTests : RemoteBackendConformanceTests
{
    private VaultFake _vault = null!;
    private ISecretBackend _backend = null!;

    protected override ISecretBackend Backend => _backend;

    public override async Task InitializeAsync()
    {
        _vault = await VaultFake.StartAsync();
        _vault.EnableKv("secret", 2);
        _backend = VaultTestBackends.Create(_vault, $$"""
            kvVersion: "2"
            timeout: 1500ms
            retry: { attempts: 3, baseDelay: 10ms }
            auth: { token: { file: {{VaultTestBackends.TokenFile(VaultFake.RootToken)}} } }
            """);
        // A first request pays for TLS and JIT; the timeout cases should not.
        await ReadAsync("secret/warm-up");
    }

    public override async Task DisposeAsync() => await _vault.DisposeAsync();

    protected override string PathFor(string name) => "secret/conformance/" + name;

    protected override Task<string> WriteAsync(string path, IReadOnlyDictionary<string, string> data) =>
        Task.FromResult(_vault.Put(path, data).ToString(System.Globalization.CultureInfo.InvariantCulture));

    protected override Task TakeDownAsync() => _vault.StopAsync();

    protected override void MakeSlow(TimeSpan delay) => _vault.Delay = delay;

    protected override void Throttle(int requests) => _vault.Throttle(requests);
}

/// <summary>Builds Vault backends from config text, the way <c>config/injector.yaml</c> does.</summary>
internal static class VaultTestBackends
{
    public static ISecretBackend Create(VaultFake vault, string settings, TimeProvider? time = null, string name = "vault-test")
    {
        var indented = string.Join("\n", settings.Split('\n').Select(l => "    " + l));
        var yaml = $"backends:\n  - name: {name}\n    type: vault\n    address: {vault.Address}\n    caFile: {vault.CaFile}\n{indented}\n";
        var config = ConfigFileReader.Parse(yaml, "injector.yaml", Path.GetTempPath());
        return BackendRegistry.Default.CreateAll(config, new BackendContext(time ?? TimeProvider.System, NullLoggerFactory.Instance, TestVersionKeys.Install))[name];
    }

    public static string TokenFile(string token)
    {
        var file = Path.Combine(ScratchDirectory.Create(), "token");
        File.WriteAllText(file, token + "\n");
        return file;
    }
}
