namespace ConfigInjector.Sync;

internal static class SyncServices
{
    /// <summary>The leader-elected sync worker and, on every replica, the admission cache's invalidation by rotations.</summary>
    /// <remarks>Expects the Kubernetes adapter (<c>AddKubernetes</c>) and the secret backends to be registered.</remarks>
    public static IServiceCollection AddSyncWorker(this IServiceCollection services, SyncSettings settings, LeaseIdentity lease, string leaseName)
    {
        services.AddSingleton(settings);
        services.AddSingleton(new LeaseElection(lease.Namespace, leaseName, lease.Identity, settings.LeaseDuration, settings.RenewDeadline, settings.RetryPeriod));
        services.AddSingleton(_ => new BackendLimiter(settings.BackendReadsPerSecond));
        services.AddSingleton<WorkloadRestarter>();
        services.AddSingleton<RestartRecords>();
        services.AddSingleton<RotationPass>();
        services.AddSingleton<ManagedSecretCollector>();
        services.AddSingleton<MissedInjectionScanner>();
        services.AddSingleton<ManagedSecretWatch>();
        services.AddHostedService(sp => sp.GetRequiredService<ManagedSecretWatch>());
        services.AddSingleton<ILeaderTask, ChangeFeedFollower>();
        services.AddSingleton<LeaseKeeper>();
        services.AddSingleton<ILeaderTask>(sp => sp.GetRequiredService<LeaseKeeper>());
        services.AddSingleton<SyncWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<SyncWorker>());
        services.AddHostedService<CacheInvalidator>();
        return services;
    }
}
