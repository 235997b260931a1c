using ConfigInjector.Admission;
using ConfigInjector.ManagedSecrets;
using ConfigInjector.Policies;

namespace ConfigInjector.Hosting;

internal static class OfflineServices
{
    /// <summary>
    /// What admission uses with no cluster: managed Secrets kept in this process (signed with a key of this process),
    /// no namespace labels, skipped refs recorded in the log.
    /// </summary>
    public static IServiceCollection AddInProcessCluster(this IServiceCollection services)
    {
        services.AddSingleton<InProcessManagedSecretStore>();
        services.AddSingleton<IManagedSecretStore>(sp => sp.GetRequiredService<InProcessManagedSecretStore>());
        services.AddSingleton<INamespaceOptIn, NoNamespaceOptIn>();
        services.AddSingleton<LoggedAdmissionEvents>();
        services.AddSingleton<IAdmissionEvents>(sp => sp.GetRequiredService<LoggedAdmissionEvents>());
        services.AddSingleton<ISigningKey, ProcessSigningKey>();
        return services;
    }
}
