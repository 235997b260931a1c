using ConfigInjector.Backends;
using ConfigInjector.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace ConfigInjector.Tests.Configuration;

public class ConfigFileReaderTests
{
    private static InjectorConfig Parse(string yaml) => ConfigFileReader.Parse(yaml, "injector.yaml", "/etc/ci");

    private static string Error(string yaml)
    {
        var error = Assert.Throws<ConfigException>(() =>
            BackendRegistry.Default.CreateAll(Parse(yaml), new BackendContext(TimeProvider.System, NullLoggerFactory.Instance, Backends.TestVersionKeys.Install)));
        return error.Message;
    }

    [Fact]
    public void Reads_backends_cache_and_webhook_settings()
    {
        var config = Parse("""
            backends:
              - name: dev
                type: file
                path: secrets.yaml
              - name: settings
                type: file
                path: /abs/settings.yaml
                sensitive: false
            cache: { ttl: 90s }
            webhook: { maxRequestBytes: "1048576" }
            """);

        Assert.Equal(["dev", "settings"], config.Backends.Select(b => b.Name));
        Assert.True(config.Backends[0].Sensitive);
        Assert.False(config.Backends[1].Sensitive);
        Assert.Equal(TimeSpan.FromSeconds(90), config.CacheTtl);
        Assert.Equal(1048576, config.MaxRequestBytes);
        Assert.Equal("/etc/ci/secrets.yaml", config.Backends[0].ResolvePath("secrets.yaml"));
        Assert.Equal("/abs/settings.yaml", config.Backends[1].ResolvePath("/abs/settings.yaml"));
    }

    [Theory]
    [InlineData("backends: []", "injector.yaml:1:11: backends: at least one backend is required")]
    [InlineData("backends:\n  - type: file\n    path: x", "injector.yaml:2:5: backends[0].name: required")]
    [InlineData("backends:\n  - name: Dev\n    type: file", "injector.yaml:2:11: backends[0].name: the backend name 'Dev' must be lowercase letters, digits and '-' (like a DNS label)")]
    [InlineData("backends:\n  - name: a\n    type: file\n    path: x\n  - name: a\n    type: file\n    path: y", "injector.yaml:5:11: backends[1].name: the backend name \"a\" is used twice")]
    [InlineData("backends:\n  - name: a\n    type: file\n    sensitive: maybe", "injector.yaml:4:16: backends[0].sensitive: \"maybe\" is not true or false")]
    [InlineData("backend:\n  - name: a", "injector.yaml:1:1: backends: at least one backend is required")]
    [InlineData("backends:\n  - name: a\n    type: file\n    path: x\ncache: { ttl: soon }", "injector.yaml:5:15: cache.ttl: \"soon\" is not a duration such as 30s, 5m or 1h30m")]
    [InlineData("backends:\n  - name: a\n    type: file\n    path: x\nwebhook: { maxRequestBytes: 10 }", "injector.yaml:5:29: webhook.maxRequestBytes: \"10\" is not a whole number from 1024 to 67108864")]
    [InlineData("backends: [\n", "injector.yaml:2:1: not valid YAML:")]
    [InlineData("- a\n- b", "injector.yaml:1:1: the config file must be one YAML mapping with a 'backends' list")]
    public void Mistakes_name_file_line_and_field(string yaml, string error)
    {
        var message = Assert.Throws<ConfigException>(() => Parse(yaml)).Message;

        Assert.StartsWith(error, message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_top_level_field_is_a_mistake_with_a_suggestion()
    {
        var message = Assert.Throws<ConfigException>(() => Parse("backends:\n  - name: a\n    type: file\n    path: x\ncahce: {}")).Message;

        Assert.Equal("injector.yaml:5:1: cahce: unknown field (did you mean cache?)", message);
    }

    [Fact]
    public void Unknown_backend_types_and_fields_fail_at_start()
    {
        Assert.Equal(
            "injector.yaml:3:11: backends[0].type: unknown backend type \"flie\" (did you mean file? known: azure-keyvault, file, vault)",
            Error("backends:\n  - name: a\n    type: flie\n"));
        Assert.Equal(
            "injector.yaml:3:5: backends[0].paht: unknown field (did you mean path?)",
            Error($"backends:\n  - name: a\n    paht: x\n    path: {Path.Combine(ConfigInjector.TestSupport.RepoPaths.Examples, "dev-secrets.yaml")}\n    type: file\n"));
    }

    [Fact]
    public void A_missing_secrets_file_fails_at_start_naming_the_field()
    {
        Assert.StartsWith("injector.yaml:4:11: backends[0].path: ", Error("backends:\n  - name: a\n    type: file\n    path: nowhere.yaml\n"), StringComparison.Ordinal);
    }

    private const string Vault = "backends:\n  - name: v\n    type: vault\n    address: https://vault.vault:8200\n";

    [Theory]
    [InlineData("backends:\n  - name: a\n    type: file\n    path: x\n    identity: self\n", "injector.yaml:5:15: backends[0].identity: \"self\" is not webhook or pod")]
    [InlineData(Vault + "    identity: pod\n    auth: { token: { file: t } }\n", "injector.yaml:6:11: backends[0].auth.kubernetes: identity: pod logs in with Kubernetes auth")]
    [InlineData(Vault + "    identity: pod\n    auth: { kubernetes: { audience: vault } }\n", "injector.yaml:6:25: backends[0].auth.kubernetes.roleTemplate: identity: pod needs roleTemplate")]
    [InlineData(Vault + "    identity: pod\n    auth: { kubernetes: { roleTemplate: \"{pod}-reader\" } }\n", "injector.yaml:6:41: backends[0].auth.kubernetes.roleTemplate: \"{pod}-reader\" may use only {namespace} and {serviceAccount}")]
    [InlineData(Vault + "    identity: pod\n    auth: { kubernetes: { roleTemplate: r, tokenFile: t } }\n", "injector.yaml:6:44: backends[0].auth.kubernetes.tokenFile: unknown field")]
    public void Identity_pod_mistakes_fail_at_start(string yaml, string error)
    {
        Assert.StartsWith(error, Error(yaml), StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_backend_cannot_read_as_the_pod()
    {
        var yaml = $"backends:\n  - name: a\n    type: file\n    identity: pod\n    path: {Path.Combine(ConfigInjector.TestSupport.RepoPaths.Examples, "dev-secrets.yaml")}\n";

        Assert.Equal("injector.yaml:4:15: backends[0].identity: a file backend cannot read as the pod's service account; identity: pod is for vault and azure-keyvault", Error(yaml));
    }

    [Fact]
    public void The_embedded_default_is_the_dev_file_backend()
    {
        var config = ConfigFileReader.ReadEmbeddedDefault("/work");

        var backend = Assert.Single(config.Backends);
        Assert.Equal(("dev", "file", true), (backend.Name, backend.Type, backend.Sensitive));
        Assert.Equal("/work/examples/dev-secrets.yaml", backend.ResolvePath("examples/dev-secrets.yaml"));
    }

    [Fact]
    public void Registering_two_factories_for_one_type_is_refused()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new BackendRegistry([new ConfigInjector.Backends.Files.FileBackendFactory(), new ConfigInjector.Backends.Files.FileBackendFactory()]));

        Assert.Equal("two backend factories register the type \"file\"", error.Message);
    }
}
