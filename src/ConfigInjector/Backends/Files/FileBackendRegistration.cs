namespace ConfigInjector.Backends.Files;

internal static class FileBackendRegistration
{
    /// <summary><c>type: file</c>.</summary>
    public static IServiceCollection AddFileBackend(this IServiceCollection services) => services.AddSingleton<IBackendFactory, FileBackendFactory>();
}
