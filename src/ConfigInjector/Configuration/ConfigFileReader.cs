using ConfigInjector.Core;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ConfigInjector.Configuration;

/// <summary>Reads and validates the config file; any mistake is a <see cref="ConfigException"/> naming file, line and field.</summary>
internal static class ConfigFileReader
{
    public const string DefaultPath = "config/injector.yaml";

    /// <summary>The embedded default: the dev file backend over the examples, paths relative to the working directory.</summary>
    public const string EmbeddedDefault = """
        backends:
          - name: dev
            type: file
            path: examples/dev-secrets.yaml
        cache: { ttl: 5m }
        """;

    /// <summary><c>--config</c> when given, else <c>config/injector.yaml</c> when it exists, else the embedded default.</summary>
    public static InjectorConfig Load(string? configFile, string workingDirectory)
    {
        if (configFile is not null)
            return Read(Path.GetFullPath(configFile, workingDirectory));
        var defaultFile = Path.Combine(workingDirectory, DefaultPath);
        return File.Exists(defaultFile) ? Read(defaultFile) : ReadEmbeddedDefault(workingDirectory);
    }

    public static InjectorConfig Read(string file)
    {
        string text;
        try
        {
            text = System.IO.File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"{file}: cannot read the config file: {e.Message}");
        }
        return Parse(text, file, Path.GetDirectoryName(Path.GetFullPath(file))!);
    }

    public static InjectorConfig ReadEmbeddedDefault(string workingDirectory) =>
        Parse(EmbeddedDefault, "(embedded default config)", workingDirectory);

    public static InjectorConfig Parse(string text, string file, string baseDirectory)
    {
        var root = LoadRoot(text, file);
        var backends = new List<BackendSettings>();
        foreach (var entry in root.Sequence("backends"))
        {
            var name = entry.String("name", required: true)!;
            if (Names.CheckBackendName(name) is { } nameError)
                throw entry.ErrorAt("name", nameError);
            if (backends.Any(b => b.Name == name))
                throw entry.ErrorAt("name", $"the backend name \"{name}\" is used twice");
            var type = entry.String("type", required: true)!;
            var sensitive = entry.Bool("sensitive", true);
            var identity = entry.String("identity") switch
            {
                null or "webhook" => BackendIdentity.Webhook,
                "pod" => BackendIdentity.Pod,
                var other => throw entry.ErrorAt("identity", $"\"{other}\" is not webhook or pod"),
            };
            backends.Add(new BackendSettings(name, type, sensitive, entry, baseDirectory) { Identity = identity });
        }
        if (backends.Count == 0)
            throw root.ErrorAt("backends", "at least one backend is required");

        var cache = root.Mapping("cache");
        var ttl = cache?.Duration("ttl", TimeSpan.FromMinutes(5)) ?? TimeSpan.FromMinutes(5);
        cache?.RejectUnknown();
        var webhook = root.Mapping("webhook");
        var maxBytes = webhook?.Long("maxRequestBytes", InjectorConfig.DefaultMaxRequestBytes, 1024, 64L * 1024 * 1024) ?? InjectorConfig.DefaultMaxRequestBytes;
        var admissionTimeout = webhook?.Duration("admissionTimeout", InjectorConfig.DefaultAdmissionTimeout) ?? InjectorConfig.DefaultAdmissionTimeout;
        webhook?.RejectUnknown();
        var sync = root.Mapping("sync");
        root.RejectUnknown();
        return new InjectorConfig(backends, ttl, maxBytes, sync) { AdmissionTimeout = admissionTimeout };
    }

    private static ConfigNode LoadRoot(string text, string file)
    {
        YamlStream stream;
        try
        {
            stream = Manifests.BoundedYaml.Load(text);
        }
        catch (YamlException e)
        {
            throw new ConfigException($"{file}:{e.Start.Line}:{e.Start.Column}: not valid YAML: {e.Message}");
        }
        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode mapping)
            throw new ConfigException($"{file}:1:1: the config file must be one YAML mapping with a 'backends' list");
        return new ConfigNode(file, "", mapping);
    }
}
