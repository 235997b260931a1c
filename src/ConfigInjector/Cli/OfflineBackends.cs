using ConfigInjector.Backends;
using ConfigInjector.Configuration;
using ConfigInjector.Observability;
using Prometheus;

namespace ConfigInjector.Cli;

/// <summary>The backends of a config file as <c>serve</c> builds them, for the verbs that read vaults from a terminal.</summary>
internal static class OfflineBackends
{
    public static ServiceProvider Build(InjectorConfig config) => new ServiceCollection()
        .AddLogging()
        .AddSingleton(TimeProvider.System)
        .AddSingleton(new InjectorMetrics(Metrics.NewCustomRegistry()))
        .AddSecretBackends(config)
        .BuildServiceProvider();
}
