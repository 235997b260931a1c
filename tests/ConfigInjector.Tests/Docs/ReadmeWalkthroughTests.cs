using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ConfigInjector.Backends;
using ConfigInjector.Backends.AzureKeyVault;
using ConfigInjector.Backends.Vault;
using ConfigInjector.Configuration;
using ConfigInjector.Manifests;
using ConfigInjector.Policies;
using ConfigInjector.Sync;
using ConfigInjector.TestSupport;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace ConfigInjector.Tests.Docs;

/// <summary>
/// The README's walkthroughs, as far as they can run without a cluster, Vault or Azure: the files a user copies
/// parse with the webhook's own readers, the chart renders with the README's values and names what the Vault and
/// Azure commands name, and the README's Deployments go through the webhook's admission code (<c>inject</c>, with a
/// file backend holding what the README put into the vault) and get their env vars.
/// </summary>
public class ReadmeWalkthroughTests
{
    private static readonly BackendContext Context = new(TimeProvider.System, NullLoggerFactory.Instance, Backends.TestVersionKeys.Install);

    [Fact]
    public void The_vault_injector_yaml_is_a_config_serve_starts_with()
    {
        var folder = ScratchDirectory.Create();
        var yaml = Readme.Block("vault-injector");
        // The CA file is the mounted ConfigMap in the pod; here a real CA at another path stands in for it.
        var caFile = Readme.Find(yaml, @"caFile: (\S+)");
        var ca = Path.Combine(folder, "ca.crt");
        File.WriteAllText(ca, SelfSignedCaPem());

        var config = ConfigFileReader.Parse(yaml.Replace(caFile, ca, StringComparison.Ordinal), "injector.yaml", folder);
        var backends = BackendRegistry.Default.CreateAll(config, Context);
        SyncSettings.Read(config.SyncSection);

        Assert.IsType<VaultBackend>(Assert.Single(backends).Value);
        var vault = VaultSettings.Read(Assert.Single(config.Backends));
        Assert.Equal(ca, vault.CaFile);
        Assert.IsType<KubernetesAuthSettings>(vault.Auth);
    }

    [Fact]
    public void The_key_vault_injector_yaml_is_a_config_serve_starts_with()
    {
        var config = ConfigFileReader.Parse(Readme.Block("keyvault-injector"), "injector.yaml", ScratchDirectory.Create());
        var backends = BackendRegistry.Default.CreateAll(config, Context);
        SyncSettings.Read(config.SyncSection);

        Assert.IsType<KeyVaultBackend>(Assert.Single(backends).Value);
        Assert.Equal(KeyVaultCredentialKind.WorkloadIdentity, KeyVaultSettings.Read(Assert.Single(config.Backends)).Credential);
    }

    [Theory]
    [InlineData("first-policy", new[] { "shop" }, new[] { "shop-defaults" })]
    [InlineData("keyvault-policy", new[] { "shop-keyvault" }, new string[0])]
    public void The_policies_are_read_without_error(string block, string[] policies, string[] profiles)
    {
        var result = PolicyDocumentReader.Parse(Readme.Block(block), "README.md");

        Assert.Empty(result.Errors);
        Assert.Equal(policies, result.Policies.Select(p => p.Name));
        Assert.Equal(profiles, result.Profiles.Select(p => p.Name));
    }

    [Fact]
    public async Task Policy_check_prints_what_the_walkthrough_shows()
    {
        var lines = Readme.Block("policy-check").TrimEnd('\n').Split('\n');
        var args = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries).SkipWhile(a => a != "configinjector").Skip(1).ToArray();
        var policies = Path.Combine(ScratchDirectory.Create(), "policies");
        Directory.CreateDirectory(policies);
        await File.WriteAllTextAsync(Path.Combine(policies, "shop.yaml"), Readme.Block("first-policy"));

        var (code, output, stderr) = await CliRunner.RunAsync([.. args.Select(a => a == "policies" ? policies : a)]);

        Assert.True(code == 0, stderr);
        Assert.Equal(string.Join("\n", lines[1..]), output.ReplaceLineEndings("\n").TrimEnd('\n'));
    }

    public static TheoryData<string> Walkthroughs => ["vault", "keyvault"];

    [Theory]
    [MemberData(nameof(Walkthroughs))]
    public async Task The_deployment_gets_its_env_vars_through_the_webhooks_admission_code(string walkthrough)
    {
        var vault = walkthrough == "vault";
        var folder = ScratchDirectory.Create();
        // What the README put into the vault, served by a file backend under the backend's name.
        var (path, values) = vault ? VaultKvPut() : KeyVaultSecretSet();
        var backend = Readme.Find(Readme.Block($"{walkthrough}-injector"), @"- name: (\S+)");
        await File.WriteAllTextAsync(Path.Combine(folder, "secrets.yaml"), $"{path}:\n" + string.Concat(values.Select(v => $"  {v.Key}: \"{v.Value}\"\n")));
        await File.WriteAllTextAsync(Path.Combine(folder, "injector.yaml"), $"backends:\n  - {{ name: {backend}, type: file, path: secrets.yaml }}\n");
        Directory.CreateDirectory(Path.Combine(folder, "policies"));
        await File.WriteAllTextAsync(Path.Combine(folder, "policies", "shop.yaml"), Readme.Block(vault ? "first-policy" : "keyvault-policy"));
        await File.WriteAllTextAsync(Path.Combine(folder, "checkout.yaml"), Readme.Block($"{walkthrough}-deployment"));

        var (code, output, stderr) = await CliRunner.RunAsync("inject", "-f", Path.Combine(folder, "checkout.yaml"),
            "--config", Path.Combine(folder, "injector.yaml"), "--policies", Path.Combine(folder, "policies"));

        Assert.True(code == 0, stderr);
        var objects = KubeYaml.LoadAll(output);
        var secret = Assert.Single(objects.OfType<V1Secret>());
        var template = Assert.Single(objects.OfType<V1Deployment>()).Spec.Template;
        var env = template.Spec.Containers.Single().Env.ToDictionary(e => e.Name);
        var asked = template.Metadata.Annotations.Where(a => a.Key.StartsWith("configinjector.io/secret.", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(asked);
        foreach (var (key, reference) in asked)
        {
            var name = key["configinjector.io/secret.".Length..];
            Assert.Equal(secret.Metadata.Name, env[name].ValueFrom.SecretKeyRef.Name);
            var wantedKey = reference.Contains('#') ? reference[(reference.IndexOf('#') + 1)..] : values.Keys.Single();
            Assert.Equal(values[wantedKey], Encoding.UTF8.GetString(secret.Data[env[name].ValueFrom.SecretKeyRef.Key]));
        }
        if (vault)
        {
            Assert.Equal("json", env["LOG_FORMAT"].Value);
            // What step 6 says a user sees: the refs with Vault's first version, and the password's length.
            var injected = template.Metadata.Annotations["configinjector.io/injected"].Split(',').Select(r => r[..r.LastIndexOf('@')] + "@1");
            var verify = Readme.Block("vault-verify");
            Assert.Contains(string.Join(",", injected), verify, StringComparison.Ordinal);
            Assert.Contains($"DB_PASSWORD has {values["password"].Length} characters", verify, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_vault_policy_lets_the_webhook_read_every_ref_of_the_walkthrough()
    {
        var allowed = Regex.Matches(Readme.Block("vault-policy"), "path \"([^\"]+)\"").Select(m => m.Groups[1].Value).ToList();
        var refs = Regex.Matches(Readme.Block("vault-deployment"), @"vault-prod:([^#\s]+)").Select(m => m.Groups[1].Value).Distinct().ToList();

        Assert.NotEmpty(refs);
        foreach (var path in refs)
        {
            var mount = path.Split('/')[0];
            // KV v2 reads <mount>/data/<path>; every first read of a path looks its mount up first.
            foreach (var call in new[] { $"{mount}/data/{path[(mount.Length + 1)..]}", $"sys/internal/ui/mounts/{path}" })
                Assert.True(allowed.Any(a => a.EndsWith('*') ? call.StartsWith(a[..^1], StringComparison.Ordinal) : call == a), $"the Vault policy does not allow reading {call}");
        }
    }

    [Fact]
    public async Task The_names_in_the_vault_walkthrough_are_the_names_the_chart_creates()
    {
        var (release, ns) = Install("vault-install");
        var injector = Readme.Block("vault-injector");
        var objects = await RenderAsync(release, ns, "vault-values", injector);
        var account = objects.Single("ServiceAccount")["metadata"]!;
        var auth = Readme.Block("vault-auth");

        // Vault's role is bound to the ServiceAccount the webhook runs as, in its namespace.
        Assert.Equal(account["name"]!.GetValue<string>(), Readme.Find(auth, @"bound_service_account_names=(\S+)"));
        Assert.Equal(ns, account["namespace"]!.GetValue<string>());
        Assert.Equal(ns, Readme.Find(auth, @"bound_service_account_namespaces=(\S+)"));
        Assert.Equal(Readme.Find(injector, @"role: (\S+)"), Readme.Find(auth, @"auth/kubernetes/role/(\S+)"));
        Assert.Equal(Readme.Find(injector, @"mount: (\S+)"), Readme.Find(auth, @"vault auth enable (\S+)"));
        Assert.Contains($"`vault policy write {Readme.Find(auth, @"policies=(\S+)")} ", Readme.Text, StringComparison.Ordinal);
        var binding = (JsonObject)YamlJson.Parse(Readme.Block("vault-tokenreview")).Single()!;
        Assert.Equal("system:auth-delegator", binding["roleRef"]!["name"]!.GetValue<string>());
        Assert.Equal(account["name"]!.GetValue<string>(), binding["subjects"]![0]!["name"]!.GetValue<string>());
        Assert.Equal(ns, binding["subjects"]![0]!["namespace"]!.GetValue<string>());

        // The CA file the backend reads is in a volume the values mount.
        var pod = objects.Single("Deployment")["spec"]!["template"]!["spec"]!;
        var caFile = Readme.Find(injector, @"caFile: (\S+)");
        Assert.Contains(pod["containers"]![0]!["volumeMounts"]!.AsArray(), m => caFile.StartsWith(m!["mountPath"]!.GetValue<string>() + "/", StringComparison.Ordinal));

        // The names the README's commands use, wherever they appear, are the chart's.
        var deployment = objects.Single("Deployment")["metadata"]!["name"]!.GetValue<string>();
        Assert.All(Regex.Matches(Readme.Text, @"deploy(?:ment)?/(config-injector[a-z0-9-]*)").Select(m => m.Groups[1].Value), n => Assert.Equal(deployment, n));
        var webhook = objects.Single("MutatingWebhookConfiguration")["metadata"]!["name"]!.GetValue<string>();
        Assert.All(Regex.Matches(Readme.Text, @"mutatingwebhookconfiguration ([a-z0-9-]+)").Select(m => m.Groups[1].Value), n => Assert.Equal(webhook, n));
        var service = objects.Single("Service")["metadata"]!["name"]!.GetValue<string>();
        Assert.Contains($"https://{service}.{ns}.svc:443/mutate-pods", Readme.Text, StringComparison.Ordinal);
        var tls = objects.OfKind("Secret").Single(s => s["type"]?.GetValue<string>() == "kubernetes.io/tls")["metadata"]!["name"]!.GetValue<string>();
        Assert.All(Regex.Matches(Readme.Text, @"secret (config-injector[a-z0-9-]*-tls)").Select(m => m.Groups[1].Value), n => Assert.Equal(tls, n));
    }

    [Fact]
    public async Task The_key_vault_walkthrough_federates_the_service_account_the_chart_creates_and_labels_its_pods()
    {
        var (release, ns) = Install("keyvault-install");
        var objects = await RenderAsync(release, ns, "keyvault-values", Readme.Block("keyvault-injector"));
        var account = objects.Single("ServiceAccount")["metadata"]!;

        Assert.Equal($"system:serviceaccount:{ns}:{account["name"]}", Readme.Find(Readme.Block("keyvault-azure"), @"--subject (\S+)"));
        Assert.NotNull(account["annotations"]?["azure.workload.identity/client-id"]);
        Assert.Equal("true", objects.Single("Deployment")["spec"]!["template"]!["metadata"]!["labels"]!["azure.workload.identity/use"]!.GetValue<string>());
    }

    [Fact]
    public void Every_link_to_a_section_names_a_heading()
    {
        var anchors = Readme.Headings().Select(Readme.Slug).ToHashSet(StringComparer.Ordinal);
        var broken = Regex.Matches(Readme.Text, @"\]\(#([^)]+)\)").Select(m => m.Groups[1].Value).Where(l => !anchors.Contains(l)).Distinct().ToList();

        Assert.True(broken.Count == 0, "links to no heading: " + string.Join(", ", broken));
    }

    private static (string Path, Dictionary<string, string> Values) VaultKvPut()
    {
        var put = Readme.Find(Readme.Block("vault-secret"), @"vault kv put (.+)").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return (put[0], put[1..].Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]));
    }

    private static (string Path, Dictionary<string, string> Values) KeyVaultSecretSet()
    {
        var set = Readme.Block("keyvault-azure");
        return (Readme.Find(set, @"secret set .*--name (\S+)"), new() { ["value"] = Readme.Find(set, @"secret set .*--value (\S+)") });
    }

    private static (string Release, string Namespace) Install(string block)
    {
        var match = Regex.Match(Readme.Block(block), @"helm install (\S+) charts/config-injector -n (\S+)");
        Assert.True(match.Success, $"{block} has no helm install");
        return (match.Groups[1].Value, match.Groups[2].Value);
    }

    private static async Task<IReadOnlyList<JsonObject>> RenderAsync(string release, string ns, string valuesBlock, string injector)
    {
        var folder = ScratchDirectory.Create();
        var values = Path.Combine(folder, "values.yaml");
        var config = Path.Combine(folder, "injector.yaml");
        await File.WriteAllTextAsync(values, Readme.Block(valuesBlock));
        await File.WriteAllTextAsync(config, injector);
        var (code, output, error) = await Helm.RunAsync("template", release, Helm.Chart, "--namespace", ns, "-f", values, "--set-file", $"config={config}");
        Assert.True(code == 0, error);
        return [.. YamlJson.Parse(output).OfType<JsonObject>()];
    }

    private static string SelfSignedCaPem()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=vault-ca", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1));
        return certificate.ExportCertificatePem();
    }
}
