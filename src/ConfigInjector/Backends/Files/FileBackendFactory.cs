using ConfigInjector.Configuration;

namespace ConfigInjector.Backends.Files;

/// <summary><c>type: file</c> — <c>path:</c> a YAML file of secret path → {key: value}.</summary>
internal sealed class FileBackendFactory : IBackendFactory
{
    public string Type => "file";

    public ISecretBackend Create(BackendSettings settings, BackendContext context)
    {
        var path = settings.ResolvePath(settings.Node.String("path", required: true)!);
        try
        {
            return new FileBackend(settings.Name, path, context.Versions, context.Time, context.Logs.CreateLogger<FileBackend>());
        }
        catch (ConfigException e)
        {
            throw settings.Node.ErrorAt("path", e.Message);
        }
    }
}
