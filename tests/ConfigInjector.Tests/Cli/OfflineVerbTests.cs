using System.Security.Cryptography.X509Certificates;
using System.Text;
using ConfigInjector.Cli;
using ConfigInjector.TestSupport;
using k8s;
using k8s.Models;

namespace ConfigInjector.Tests.Cli;

/// <summary>The offline verbs run in-process: stdout, stderr and exit codes as a user sees them.</summary>
public class OfflineVerbTests
{
    private static readonly string Config = Path.Combine(RepoPaths.Examples, "injector.yaml");
    private static readonly string Policies = Path.Combine(RepoPaths.Examples, "policies");

    private static Task<(int Code, string Out, string Err)> Run(params string[] args) => CliRunner.RunAsync(args);

    /// <summary>Every Kubernetes manifest in examples/ (the files with an apiVersion), with the workload kind it holds.</summary>
    public static TheoryData<string, string> ExampleManifests()
    {
        var data = new TheoryData<string, string>();
        foreach (var file in Directory.GetFiles(RepoPaths.Examples, "*.yaml").Order(StringComparer.Ordinal))
        {
            var kinds = ConfigInjector.Manifests.YamlJson.Parse(File.ReadAllText(file)).Select(d => d?["kind"]?.GetValue<string>()).ToList();
            if (kinds.FirstOrDefault(k => k is not null && ConfigInjector.Manifests.PodTemplates.Kinds.Contains(k)) is { } kind)
                data.Add(Path.GetFileName(file), kind);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ExampleManifests))]
    public async Task Inject_round_trips_the_examples_into_objects_kubernetes_reads(string example, string kind)
    {
        var (code, output, stderr) = await Run("inject", "-f", Path.Combine(RepoPaths.Examples, example), "--config", Config, "--policies", Policies);

        Assert.True(code == ExitCodes.Ok, stderr);
        var objects = KubeYaml.LoadAll(output);
        var workload = Assert.Single(objects, o => ((IKubernetesObject)o).Kind == kind);
        var secret = Assert.Single(objects.OfType<V1Secret>());
        Assert.Equal("config-injector", secret.Metadata.Labels["app.kubernetes.io/managed-by"]);
        Assert.Equal("manual", secret.Metadata.Annotations["configinjector.io/lifecycle"]);
        var template = workload switch
        {
            V1Deployment d => d.Spec.Template,
            V1CronJob c => c.Spec.JobTemplate.Spec.Template,
            _ => throw new InvalidOperationException(),
        };
        Assert.Equal(secret.Metadata.Name, template.Metadata.Annotations["configinjector.io/managed-secret"]);
        var keys = template.Spec.Containers[0].Env.Where(e => e.ValueFrom?.SecretKeyRef is not null).Select(e => e.ValueFrom.SecretKeyRef.Key).ToList();
        Assert.NotEmpty(keys);
        Assert.All(keys, k => Assert.True(secret.Data.ContainsKey(k), $"Secret has {k}"));
        // Values belong in the printed Secrets' data and nowhere else: not in the workloads, not in a Secret's
        // annotations, not on stderr, in plain or in base64.
        var outside = string.Join("\n---\n", objects.Select(o => o is V1Secret s ? KubeYaml.Serialize(new V1Secret { Metadata = s.Metadata, Type = s.Type }) : KubeYaml.Serialize(o)));
        foreach (var value in DevSecrets.Values())
        {
            foreach (var text in new[] { outside, stderr })
            {
                Assert.DoesNotContain(value, text, StringComparison.Ordinal);
                Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(value)), text, StringComparison.Ordinal);
            }
        }
        // The values are in the Secret: as they are, or inside a rendered template.
        Assert.Contains(secret.Data.Values, v => DevSecrets.Values().Any(d => Encoding.UTF8.GetString(v).Contains(d, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Inject_keeps_other_objects_and_reads_lists_and_json_from_stdin_equivalents()
    {
        var dir = ScratchDirectory.Create();
        var file = Path.Combine(dir, "list.json");
        await File.WriteAllTextAsync(file, """
            {"apiVersion":"v1","kind":"List","items":[
              {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings"},"data":{"a":"1"}},
              {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","annotations":{"configinjector.io/inject":"true","configinjector.io/secret.U":"dev:app/db#user"}},"spec":{"containers":[{"name":"c","image":"i"}]}}
            ]}
            """);

        var (code, output, _) = await Run("inject", "-f", file, "--config", Config, "--policies", Policies, "--namespace", "dev-x");

        Assert.Equal(ExitCodes.Ok, code);
        var objects = KubeYaml.LoadAll(output);
        Assert.Equal("1", Assert.Single(objects.OfType<V1ConfigMap>()).Data["a"]);
        Assert.Equal("dev-x", Assert.Single(objects.OfType<V1Secret>()).Metadata.NamespaceProperty);
    }

    [Fact]
    public async Task A_denied_workload_is_reported_with_exit_1_and_nothing_on_stdout()
    {
        var file = Path.Combine(ScratchDirectory.Create(), "denied.yaml");
        await File.WriteAllTextAsync(file, """
            apiVersion: apps/v1
            kind: Deployment
            metadata: { name: reports, namespace: default }
            spec:
              selector: { matchLabels: { app: reports } }
              template:
                metadata:
                  labels: { app: reports }
                  annotations: { configinjector.io/inject: "true", configinjector.io/secret.P: "dev:team-b/db#password" }
                spec: { containers: [{ name: r, image: r }] }
            """);

        var (code, output, stderr) = await Run("inject", "-f", file, "--config", Config, "--policies", Policies);

        Assert.Equal(ExitCodes.Failed, code);
        Assert.Equal("", output);
        Assert.Equal("denied: Deployment default/reports: configinjector: namespace default, service account default: no SecretPolicy allows dev:team-b/db#password\n", stderr);
    }

    [Theory]
    [InlineData("nope: [", "not valid YAML or JSON")]
    public async Task Bad_manifests_exit_2_with_one_line(string content, string error)
    {
        var file = Path.Combine(ScratchDirectory.Create(), "bad.yaml");
        await File.WriteAllTextAsync(file, content);

        var (code, _, stderr) = await Run("inject", "-f", file, "--config", Config, "--policies", Policies);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains(error, stderr, StringComparison.Ordinal);
        Assert.Single(stderr.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public async Task Policy_check_names_the_deciding_rule_or_says_no_policy_allows_it()
    {
        var (code, output, _) = await Run("policy", "check", "--namespace", "dev-a", "--service-account", "api", "dev:app/db#password", "dev:shared/sentry#token", "--policies", Policies);

        Assert.Equal(ExitCodes.Failed, code);
        Assert.Equal(
            "allowed  dev:app/db#password  by SecretPolicy dev-apps rules[0] (onBackendError: deny, rotation: every 5m, restart)\n" +
            "denied   dev:shared/sentry#token  namespace dev-a, service account api: no SecretPolicy allows dev:shared/sentry#token\n",
            output);

        var (ok, _, _) = await Run("policy", "check", "-n", "default", "dev:shared/sentry#dsn", "--policies", Policies);
        Assert.Equal(ExitCodes.Ok, ok);
    }

    [Fact]
    public async Task Policy_check_rejects_a_malformed_ref_with_exit_2()
    {
        var (code, _, stderr) = await Run("policy", "check", "-n", "default", "dev:app/db#", "--policies", Policies);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("configinjector: dev:app/db#: the key after '#' is empty\n", stderr);
    }

    [Fact]
    public async Task Certs_generate_makes_a_chain_with_the_service_names_and_refuses_to_overwrite()
    {
        var dir = Path.Combine(ScratchDirectory.Create(), "certs");

        var (code, output, _) = await Run("certs", "generate", "--service", "config-injector", "--namespace", "platform", "--out", dir, "--days", "30");

        Assert.Equal(ExitCodes.Ok, code);
        using var ca = X509CertificateLoader.LoadCertificate(Convert.FromBase64String(output.Trim()));
        using var serving = X509Certificate2.CreateFromPemFile(Path.Combine(dir, "tls.crt"), Path.Combine(dir, "tls.key"));
        Assert.Equal(ca.Thumbprint, X509CertificateLoader.LoadCertificateFromFile(Path.Combine(dir, "ca.crt")).Thumbprint);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        Assert.True(chain.Build(serving));
        Assert.Equal(
            ["config-injector", "config-injector.platform", "config-injector.platform.svc", "config-injector.platform.svc.cluster.local"],
            serving.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames());
        Assert.True(serving.Extensions.OfType<X509KeyUsageExtension>().Single().KeyUsages.HasFlag(X509KeyUsageFlags.DigitalSignature));
        Assert.Contains(serving.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>(), o => o.Value == "1.3.6.1.5.5.7.3.1");
        Assert.True(ca.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        Assert.InRange((serving.NotAfter - DateTime.Now).TotalDays, 29, 30.1);
        Assert.True(serving.NotBefore <= DateTime.Now);

        var again = await Run("certs", "generate", "--service", "config-injector", "--namespace", "platform", "--out", dir);
        Assert.Equal(ExitCodes.Usage, again.Code);
        Assert.Equal($"configinjector: --out: {dir} already holds ca.crt, ca.key, tls.crt, tls.key; use --force to replace them\n", again.Err);
        Assert.Equal(ExitCodes.Ok, (await Run("certs", "generate", "--service", "config-injector", "--namespace", "platform", "--out", dir, "--force")).Code);
    }

    [Fact]
    public async Task An_environment_failure_is_one_line_with_exit_2_not_a_stack_trace()
    {
        var (code, output, stderr) = await Run("certs", "generate", "--service", "ci", "--namespace", "platform", "--out", "/proc/self/no-such-dir");

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("", output);
        Assert.StartsWith("configinjector: ", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.TrimEnd('\n').Split('\n'));
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Config_Injector", "platform", "configinjector: --service: \"Config_Injector\" is not a valid Service name (lowercase letters, digits and '-')")]
    [InlineData("ci", "Platform", "configinjector: --namespace: \"Platform\" is not a valid namespace name")]
    public async Task Certs_generate_checks_names(string service, string ns, string error)
    {
        var (code, _, stderr) = await Run("certs", "generate", "--service", service, "--namespace", ns, "--out", ScratchDirectory.Create());

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal(error + "\n", stderr);
    }

    [Fact]
    public async Task Every_verb_has_help()
    {
        foreach (var verb in new[] { new[] { "serve" }, ["inject"], ["policy", "check"], ["certs", "generate"], ["resolve"] })
        {
            var (code, output, _) = await Run([.. verb, "--help"]);
            Assert.Equal(ExitCodes.Ok, code);
            Assert.Contains("--config", output, StringComparison.Ordinal);
        }
    }
}
