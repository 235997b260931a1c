using ConfigInjector.Backends;
using ConfigInjector.Configuration;
using ConfigInjector.TestSupport.Fakes;
using Microsoft.Extensions.Logging.Abstractions;

namespace ConfigInjector.Bench;

/// <summary>The <c>vault-bench</c> backend over a Vault fake, as a config file would declare it, for the in-process scenarios.</summary>
internal static class BenchVault
{
    /// <param name="time">The backends' clock: a lease's issue and expiry times are read from it.</param>
    public static async Task<IReadOnlyDictionary<string, ISecretBackend>> BackendsAsync(VaultFake vault, TimeProvider? time = null)
    {
        var tokenFile = Path.GetTempFileName();
        await File.WriteAllTextAsync(tokenFile, VaultFake.RootToken);
        var config = ConfigFileReader.Parse($$"""
            backends:
              - name: vault-bench
                type: vault
                address: {{vault.Address}}
                caFile: {{vault.CaFile}}
                timeout: 10s
                auth: { token: { file: {{tokenFile}} } }
            """, "bench.yaml", "/");
        return BackendRegistry.Default.CreateAll(config, new BackendContext(time ?? TimeProvider.System, NullLoggerFactory.Instance, new StaticVersionKey(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32))));
    }
}
