using ConfigInjector.Backends.AzureKeyVault;
using ConfigInjector.Backends.Files;
using ConfigInjector.Backends.Vault;
using ConfigInjector.Configuration;
using ConfigInjector.Core.Planning;
using ConfigInjector.Observability;

namespace ConfigInjector.Backends;

/// <summary>
/// The backends of a config file and the shared cache in front of them, registered once for every verb: <c>serve</c>,
/// <c>inject</c> and <c>resolve</c> read through the same reader, with the same timeout.
/// </summary>
internal static class BackendServices
{
    /// <summary>Every backend type this build knows: adding one is a folder and one call here.</summary>
    public static IServiceCollection AddBackendTypes(this IServiceCollection services) =>
        services.AddFileBackend().AddVaultBackend().AddKeyVaultBackend();

    /// <remarks>Expects a <see cref="TimeProvider"/>, <see cref="InjectorMetrics"/>, an <see cref="IVersionKey"/> and logging to be registered.</remarks>
    public static IServiceCollection AddSecretBackends(this IServiceCollection services, InjectorConfig config)
    {
        services.AddBackendTypes();
        services.AddSingleton(sp => new BackendRegistry(sp.GetServices<IBackendFactory>()));
        services.AddSingleton(sp => new BackendContext(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>(), sp.GetRequiredService<IVersionKey>())
        {
            ServiceAccounts = sp.GetService<PodIdentity.IServiceAccounts>() ?? PodIdentity.NoServiceAccounts.Instance,
        });
        services.AddSingleton(sp => sp.GetRequiredService<BackendRegistry>().CreateAll(config, sp.GetRequiredService<BackendContext>()));
        services.AddSingleton(sp => new SecretReader(sp.GetRequiredService<IReadOnlyDictionary<string, ISecretBackend>>(), sp.GetRequiredService<InjectorMetrics>(), config.BackendReadTimeout));
        services.AddSingleton(sp => new LeaseIssuers(sp.GetRequiredService<IReadOnlyDictionary<string, ISecretBackend>>(), config.BackendReadTimeout));
        services.AddSingleton(sp => new SecretCache(sp.GetRequiredService<SecretReader>(), sp.GetRequiredService<TimeProvider>(), config.CacheTtl, sp.GetRequiredService<InjectorMetrics>()));
        services.AddSingleton<IReadOnlyDictionary<string, BackendInfo>>(config.Backends.ToDictionary(b => b.Name, b => new BackendInfo(b.Name, b.Sensitive)));
        return services;
    }
}
