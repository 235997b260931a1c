namespace ConfigInjector.Backends.AzureKeyVault;

internal static class KeyVaultBackendRegistration
{
    /// <summary><c>type: azure-keyvault</c>.</summary>
    public static IServiceCollection AddKeyVaultBackend(this IServiceCollection services) => services.AddSingleton<IBackendFactory, KeyVaultBackendFactory>();
}
