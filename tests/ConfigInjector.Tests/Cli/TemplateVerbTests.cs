using System.Text;
using ConfigInjector.Cli;
using ConfigInjector.TestSupport;
using k8s.Models;

namespace ConfigInjector.Tests.Cli;

/// <summary>Templates offline: <c>inject</c> renders them like the webhook, <c>template check</c> shows refs and shapes, never values.</summary>
public class TemplateVerbTests
{
    private static readonly string Config = Path.Combine(RepoPaths.Examples, "injector.yaml");
    private static readonly string Policies = Path.Combine(RepoPaths.Examples, "policies");
    private static readonly string Example = Path.Combine(RepoPaths.Examples, "templates.yaml");

    private static Task<(int Code, string Out, string Err)> Run(params string[] args) => CliRunner.RunAsync([.. args, "--config", Config, "--policies", Policies]);

    [Fact]
    public async Task Inject_renders_the_templates_into_the_printed_secret()
    {
        var (code, output, stderr) = await Run("inject", "-f", Example);

        Assert.True(code == ExitCodes.Ok, stderr);
        var objects = KubeYaml.LoadAll(output);
        var secret = Assert.Single(objects.OfType<V1Secret>());
        var data = secret.Data.ToDictionary(d => d.Key, d => Encoding.UTF8.GetString(d.Value));
        Assert.Equal("postgres://dev-only-db-user-c41e:dev-only-db-password-7f3a@db.default:5432/orders?sslmode=require", data["DATABASE_URL"]);
        Assert.Equal("FEATURE_FLAGS=\"search,checkout\"\nLOG_LEVEL=\"debug\"\n", data["file.app.env"]);
        Assert.Contains("\"greeting\": \"${name} is not a placeholder\"", data["file.config.json"], StringComparison.Ordinal);
        var template = Assert.Single(objects.OfType<V1Deployment>()).Spec.Template;
        Assert.Equal(["config.json", "app.env"], template.Spec.Volumes.Single(v => v.Name == "configinjector-files").Secret.Items.Select(i => i.Path));
    }

    [Fact]
    public async Task Check_lists_each_ref_with_its_rule_and_version_and_the_masked_shape()
    {
        var (code, output, stderr) = await Run("template", "check", "-n", "default", "-f", Example);

        Assert.True(code == ExitCodes.Ok, stderr);
        Assert.Contains("Deployment orders (namespace default, service account orders)", output, StringComparison.Ordinal);
        Assert.Contains("  configinjector.io/template.DATABASE_URL\n" +
            $"    allowed  dev:app/db#user  by SecretPolicy dev-apps rules[0], version {DevSecrets.Version("app/db", File.ReadAllBytes(Path.Combine("webhook-certs", "dev", "version-key")))}\n",
            output, StringComparison.Ordinal);
        Assert.Contains("    renders  postgres://****:****@db.default:5432/orders?sslmode=require\n", output, StringComparison.Ordinal);
        Assert.Contains("  configinjector.io/file-from.app.env (format dotenv)\n", output, StringComparison.Ordinal);
        Assert.Contains("      | FEATURE_FLAGS=\"****\"\n      | LOG_LEVEL=\"****\"\n", output, StringComparison.Ordinal);
        foreach (var value in DevSecrets.Values())
            Assert.DoesNotContain(value, output + stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_fails_with_exit_1_naming_a_denied_ref_a_missing_key_and_a_bad_template()
    {
        var file = Path.Combine(ScratchDirectory.Create(), "pod.yaml");
        await File.WriteAllTextAsync(file, """
            apiVersion: v1
            kind: Pod
            metadata:
              name: web
              annotations:
                configinjector.io/template.OTHER: "${dev:team-b/db#password}/${dev:app/db#nokey}"
                configinjector.io/file-template.bad.json: "${dev:app/db#user | upper}"
            spec:
              containers: [{ name: app, image: x }]
            """);

        var (code, output, _) = await Run("template", "check", "-n", "default", "-f", file);

        Assert.Equal(ExitCodes.Failed, code);
        Assert.Equal("""
            Pod web (namespace default, service account default)
              error    configinjector.io/file-template.bad.json: column 1: unknown filter 'upper'; expected one of urlencode, base64, json, trim
              configinjector.io/template.OTHER
                denied   dev:team-b/db#password  namespace default, service account default: no SecretPolicy allows dev:team-b/db#password
                error    dev:app/db#nokey  allowed by SecretPolicy dev-apps rules[0], but the path has no key "nokey"
                renders  ****/****

            """, output);
    }

    [Fact]
    public async Task Check_of_a_manifest_that_is_not_yaml_is_one_line_with_exit_2()
    {
        var file = Path.Combine(ScratchDirectory.Create(), "bad.yaml");
        await File.WriteAllTextAsync(file, "nope: [");

        var (code, _, stderr) = await Run("template", "check", "-n", "default", "-f", file);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Single(stderr.TrimEnd('\n').Split('\n'));
        Assert.Contains("not valid YAML or JSON", stderr, StringComparison.Ordinal);
    }
}
