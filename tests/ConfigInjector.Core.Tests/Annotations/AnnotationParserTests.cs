using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.References;

namespace ConfigInjector.Core.Tests.Annotations;

public class AnnotationParserTests
{
    private static AnnotationParseResult Parse(params (string Key, string Value)[] annotations) =>
        AnnotationParser.Parse(annotations.ToDictionary(a => a.Key, a => a.Value));

    [Fact]
    public void Reads_every_kind_of_request()
    {
        var result = Parse(
            ("configinjector.io/inject", "true"),
            ("configinjector.io/secret.DB_PASSWORD", "dev:app/db#password"),
            ("configinjector.io/config.LOG_LEVEL", "dev:app/settings#LOG_LEVEL"),
            ("configinjector.io/file.ca.crt", "dev:shared/tls#ca"),
            ("configinjector.io/secrets-from", "dev:app/db"),
            ("configinjector.io/secrets-prefix", "DB_"),
            ("configinjector.io/files-dir", "/etc/app/"),
            ("configinjector.io/containers", "app, worker"),
            ("configinjector.io/init-containers", "true"),
            ("configinjector.io/rotation", "none"),
            ("configinjector.io/override", "true"),
            ("app.kubernetes.io/name", "ignored"));

        Assert.Empty(result.Errors);
        Assert.Empty(result.Warnings);
        var request = result.Request;
        Assert.Equal(OptIn.Yes, request.Inject);
        Assert.Equal(
            [new EnvRequest("LOG_LEVEL", new SecretReference("dev", "app/settings", "LOG_LEVEL", null), EnvSource.Config, "configinjector.io/config.LOG_LEVEL"),
             new EnvRequest("DB_PASSWORD", new SecretReference("dev", "app/db", "password", null), EnvSource.Secret, "configinjector.io/secret.DB_PASSWORD")],
            request.Env);
        Assert.Equal("ca.crt", Assert.Single(request.Files).Name);
        Assert.Equal(new SecretReference("dev", "app/db", null, null), request.SecretsFrom);
        Assert.Equal("DB_", request.SecretsPrefix);
        Assert.Equal("/etc/app", request.FilesDir);
        Assert.Equal(["app", "worker"], request.Containers);
        Assert.True(request.InitContainers);
        Assert.Equal(RotationMode.None, request.Rotation);
        Assert.True(request.Override);
    }

    [Theory]
    [InlineData("configinjector.io/secrets.DB", "unknown annotation configinjector.io/secrets.DB; did you mean configinjector.io/secret.DB?")]
    [InlineData("configinjector.io/injct", "unknown annotation configinjector.io/injct; did you mean configinjector.io/inject?")]
    [InlineData("configinjector.io/secret-from", "unknown annotation configinjector.io/secret-from; did you mean configinjector.io/secrets-from?")]
    [InlineData("configinjector.io/files.tls.crt", "unknown annotation configinjector.io/files.tls.crt; did you mean configinjector.io/file.tls.crt?")]
    [InlineData("configinjector.io/container", "unknown annotation configinjector.io/container; did you mean configinjector.io/containers?")]
    public void Unknown_keys_are_warnings_naming_the_closest_valid_key(string key, string warning)
    {
        var result = Parse(("configinjector.io/inject", "true"), (key, "dev:app/db#user"));

        Assert.Equal([warning], result.Warnings);
        Assert.Empty(result.Errors);
    }

    [Theory]
    [InlineData("configinjector.io/inject", "yes", "configinjector.io/inject: \"yes\" is not \"true\" or \"false\"; did you mean \"true\"? Treated as not set")]
    [InlineData("configinjector.io/override", "flase", "configinjector.io/override: \"flase\" is not \"true\" or \"false\"; did you mean \"false\"? Treated as not set")]
    [InlineData("configinjector.io/rotation", "restrat", "configinjector.io/rotation: \"restrat\" is not \"restart\" or \"none\"; did you mean \"restart\"? The policy's default applies")]
    public void Bad_values_of_switches_are_warnings(string key, string value, string warning)
    {
        var result = Parse((key, value));

        Assert.Equal([warning], result.Warnings);
        Assert.Equal(OptIn.Unset, result.Request.Inject);
    }

    [Theory]
    [InlineData("configinjector.io/secret.DB_PASSWORD", "dev:app/db#", "configinjector.io/secret.DB_PASSWORD: \"dev:app/db#\": the key after '#' is empty")]
    [InlineData("configinjector.io/secret.1DB", "dev:app/db#password", "configinjector.io/secret.1DB: \"1DB\" is not a valid environment variable name (letters, digits and '_', not starting with a digit)")]
    [InlineData("configinjector.io/config.LOG", "app/settings", "configinjector.io/config.LOG: \"app/settings\": no ':' after the backend name; expected <backend>:<path>[#<key>][@<version>]")]
    [InlineData("configinjector.io/file.a/b", "dev:x#y", "configinjector.io/file.a/b: \"a/b\" is not a valid file name (letters, digits, '.', '_' and '-')")]
    [InlineData("configinjector.io/file...", "dev:x#y", "configinjector.io/file...: \"..\" is not a valid file name (letters, digits, '.', '_' and '-')")]
    [InlineData("configinjector.io/secrets-from", "dev:app/db#user", "configinjector.io/secrets-from: \"dev:app/db#user\": this annotation takes a path without '#<key>': every key of the path is used")]
    [InlineData("configinjector.io/secrets-prefix", "1_", "configinjector.io/secrets-prefix: \"1_\" is not a valid start of an environment variable name")]
    [InlineData("configinjector.io/files-dir", "relative/dir", "configinjector.io/files-dir: \"relative/dir\" must be an absolute directory path other than '/', without '.', '..' or ':'")]
    [InlineData("configinjector.io/files-dir", "/etc/../root", "configinjector.io/files-dir: \"/etc/../root\" must be an absolute directory path other than '/', without '.', '..' or ':'")]
    [InlineData("configinjector.io/containers", " , ", "configinjector.io/containers: \" , \" names no container")]
    public void Malformed_requests_are_errors_that_quote_the_annotation(string key, string value, string error)
    {
        var result = Parse(("configinjector.io/inject", "true"), (key, value));

        Assert.Equal([error], result.Errors);
    }

    [Fact]
    public void The_same_env_var_from_two_annotations_is_an_error()
    {
        var result = Parse(("configinjector.io/secret.DB", "dev:a#b"), ("configinjector.io/config.DB", "dev:c#d"));

        Assert.Equal(["configinjector.io/secret.DB: DB is already set by configinjector.io/config.DB"], result.Errors);
    }

    [Fact]
    public void The_injected_marker_is_recognised_and_not_a_typo()
    {
        var result = Parse(("configinjector.io/injected", "dev:app/db#user@1"), ("configinjector.io/managed-secret", "configinjector-web-1"));

        Assert.True(result.Request.AlreadyInjected);
        Assert.Empty(result.Warnings);
    }

    [Fact]
    public void A_pod_without_our_annotations_asks_for_nothing()
    {
        var result = Parse(("kubectl.kubernetes.io/restartedAt", "2026-01-01T00:00:00Z"));

        Assert.False(result.Request.HasAnyAnnotation);
        Assert.Empty(result.Warnings);
        Assert.Empty(result.Errors);
    }
}
