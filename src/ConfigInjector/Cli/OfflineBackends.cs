using ConfigInjector.Backends;
using ConfigInjector.Backends.PodIdentity;
using ConfigInjector.Configuration;
using ConfigInjector.Observability;
using Prometheus;

namespace ConfigInjector.Cli;

/// <summary>The backends of a config file as <c>serve</c> builds them, for the verbs that read vaults from a terminal.</summary>
internal static class OfflineBackends
{
    /// <param name="versions">The install's version key when the verb reaches its cluster; else the key file of the working directory.</param>
    /// <param name="accounts">Where <c>identity: pod</c> backends get a service account's token; none outside a cluster.</param>
    public static ServiceProvider Build(InjectorConfig config, IVersionKey? versions = null, IServiceAccounts? accounts = null) => new ServiceCollection()
        .AddLogging()
        .AddSingleton(accounts ?? NoServiceAccounts.Instance)
        .AddSingleton(versions ?? new ManagedSecrets.LocalVersionKey(Directory.GetCurrentDirectory()))
        .AddSingleton(TimeProvider.System)
        .AddSingleton(new InjectorMetrics(Metrics.NewCustomRegistry()))
        .AddSecretBackends(config)
        .BuildServiceProvider();
}
