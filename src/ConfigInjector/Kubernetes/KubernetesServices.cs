using ConfigInjector.Admission;
using ConfigInjector.Backends;
using ConfigInjector.ManagedSecrets;
using ConfigInjector.Policies;
using ConfigInjector.Sync;
using k8s;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ConfigInjector.Kubernetes;

internal static class KubernetesServices
{
    /// <summary>
    /// What admission uses in a cluster: managed Secrets through the API (signed with the shared key in the
    /// injector's namespace), namespace-label opt-in and Events; policies as custom resources unless a folder was given.
    /// </summary>
    public static IServiceCollection AddKubernetes(this IServiceCollection services, IKubernetes client, string injectorNamespace, string identity, string signingKeySecret, bool policiesAsResources)
    {
        services.AddSingleton(client);
        services.TryAddSingleton(KubernetesTimings.Default);
        services.AddSingleton<IManagedSecretStore, KubernetesManagedSecretStore>();
        services.AddSingleton<ILeaseRecords>(new KubernetesLeaseRecords(client, injectorNamespace));
        services.AddSingleton<ILeaseDeliverer, KubernetesLeaseDeliverer>();
        services.AddSingleton<INamespaceOptIn, NamespaceLabelOptIn>();
        services.AddSingleton<Backends.PodIdentity.IServiceAccounts>(new KubernetesServiceAccounts(client));
        services.AddSingleton(sp => new EventRecorder(client, sp.GetRequiredService<TimeProvider>(), identity, sp.GetRequiredService<ILogger<EventRecorder>>()));
        services.AddSingleton<ISyncCluster, KubernetesSyncCluster>();
        // Refresh now by annotating (DESIGN.md §5): any replica can ask, the leader acts.
        services.AddSingleton<KubernetesRefreshRequester>();
        services.AddSingleton<IRefreshRequester>(sp => sp.GetRequiredService<KubernetesRefreshRequester>());
        services.AddSingleton<AdmissionEventWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<AdmissionEventWriter>());
        services.AddSingleton<LoggedAdmissionEvents>();
        services.AddSingleton<IAdmissionEvents, ClusterAdmissionEvents>();
        // One Secret holds both: the key managed Secrets are signed with and the seed every replica makes versions with.
        services.AddSingleton(sp => new KubernetesSigningKey(client, injectorNamespace, signingKeySecret, sp.GetRequiredService<KubernetesTimings>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<ISigningKey>(sp => sp.GetRequiredService<KubernetesSigningKey>());
        services.AddSingleton<IVersionKey>(sp => sp.GetRequiredService<KubernetesSigningKey>());
        if (policiesAsResources)
        {
            services.AddSingleton<CustomResourcePolicySource>();
            services.AddSingleton<IPolicySource>(sp => sp.GetRequiredService<CustomResourcePolicySource>());
            services.AddHostedService(sp => sp.GetRequiredService<CustomResourcePolicySource>());
            // Every replica judges the objects; only the sync worker's leader writes their status.
            services.AddSingleton<PolicyStatusWriter>();
            services.AddSingleton<ILeaderTask>(sp => sp.GetRequiredService<PolicyStatusWriter>());
        }
        return services;
    }
}
