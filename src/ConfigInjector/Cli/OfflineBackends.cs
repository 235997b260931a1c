using ConfigInjector.Backends;
using ConfigInjector.Configuration;
using ConfigInjector.Observability;
using Prometheus;

namespace ConfigInjector.Cli;

/// <summary>The backends of a config file as <c>serve</c> builds them, for the verbs that read vaults from a terminal.</summary>
internal static class OfflineBackends
{
    /// <param name="versions">The install's version key when the verb reaches its cluster; else the key file of the working directory.</param>
    public static ServiceProvider Build(InjectorConfig config, IVersionKey? versions = null) => new ServiceCollection()
        .AddLogging()
        .AddSingleton(versions ?? new ManagedSecrets.LocalVersionKey(Directory.GetCurrentDirectory()))
        .AddSingleton(TimeProvider.System)
        .AddSingleton(new InjectorMetrics(Metrics.NewCustomRegistry()))
        .AddSecretBackends(config)
        .BuildServiceProvider();
}
