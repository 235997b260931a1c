using ConfigInjector.Configuration;

namespace ConfigInjector.Admission;

internal static class AdmissionServices
{
    /// <summary>
    /// The admission path: handler, audit log and the HTTP endpoint. What it decides with (policies, the managed-Secret
    /// store, namespace opt-in, events, the signing key) is registered by the caller: the cluster or an offline run.
    /// </summary>
    public static IServiceCollection AddAdmission(this IServiceCollection services, InjectorConfig config)
    {
        services.AddSingleton<AuditLog>();
        services.AddSingleton<AdmissionWarmup>();
        services.AddSingleton<SignedSecretMemo>();
        services.AddSingleton<DynamicCredentials>();
        services.AddSingleton<AdmissionHandler>();
        services.AddSingleton(sp => new AdmissionEndpoint(
            sp.GetRequiredService<AdmissionHandler>(), sp.GetRequiredService<IAdmissionEvents>(), sp.GetRequiredService<Observability.InjectorMetrics>(), config.MaxRequestBytes, config.AdmissionTimeout, sp.GetRequiredService<ILogger<AdmissionEndpoint>>()));
        return services;
    }
}
