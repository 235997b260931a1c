using ConfigInjector.Admission;
using ConfigInjector.Backends;
using ConfigInjector.ManagedSecrets;
using ConfigInjector.Policies;

namespace ConfigInjector.Hosting;

internal static class OfflineServices
{
    /// <summary>
    /// What admission uses with no cluster: managed Secrets kept in this process (signed with a key of this process),
    /// no namespace labels, skipped refs recorded in the log; versions made with the key file under <paramref name="workingDirectory"/>.
    /// </summary>
    public static IServiceCollection AddInProcessCluster(this IServiceCollection services, string workingDirectory)
    {
        services.AddSingleton<IVersionKey>(new LocalVersionKey(workingDirectory));
        services.AddSingleton<InProcessManagedSecretStore>();
        services.AddSingleton<IManagedSecretStore>(sp => sp.GetRequiredService<InProcessManagedSecretStore>());
        services.AddSingleton<ILeaseRecords, InProcessLeaseRecords>();
        services.AddSingleton<ILeaseDeliverer, InProcessLeaseDeliverer>();
        services.AddSingleton<INamespaceOptIn, NoNamespaceOptIn>();
        services.AddSingleton<LoggedAdmissionEvents>();
        services.AddSingleton<IAdmissionEvents>(sp => sp.GetRequiredService<LoggedAdmissionEvents>());
        services.AddSingleton<ISigningKey, ProcessSigningKey>();
        return services;
    }
}
