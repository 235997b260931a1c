namespace ConfigInjector.Backends.Vault;

internal static class VaultBackendRegistration
{
    /// <summary><c>type: vault</c> — HashiCorp Vault and OpenBao.</summary>
    public static IServiceCollection AddVaultBackend(this IServiceCollection services) => services.AddSingleton<IBackendFactory, VaultBackendFactory>();
}
