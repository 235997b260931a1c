using ConfigInjector.Cli;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Fakes;

namespace ConfigInjector.Tests.PodIdentity;

/// <summary>
/// The CLI with an <c>identity: pod</c> Vault backend, through its entry point against the API server fake (which issues
/// the service account's token to the kubeconfig's credentials) and the Vault fake (a role per service account):
/// <c>resolve --as</c>, <c>policy check</c>'s second gate, <c>template check</c> and <c>report</c>. Never a value or a
/// token in what they print; the cluster's dispose scans its logs and Events for tokens as well.
/// </summary>
public sealed class PodIdentityCliTests : IAsyncLifetime
{
    private const string Ref = "vault-prod:secret/shop/db#password";
    private ClusterEnvironment _cluster = null!;
    private string _folder = "";
    private string _kubeconfig = "";
    private string _config = "";
    private string _policies = "";

    public async Task InitializeAsync()
    {
        _cluster = await ClusterEnvironment.StartAsync();
        PodIdentityChecks.AddCheckoutAndIntruder(_cluster);
        var vault = _cluster.Vault;
        _folder = ScratchDirectory.Create();
        _kubeconfig = _cluster.Api.WriteKubeconfig(_folder, token: "platform-oncall");
        _config = Path.Combine(_folder, "injector.yaml");
        await File.WriteAllTextAsync(_config, $$"""
            backends:
              - name: vault-prod
                type: vault
                address: {{vault.Address}}
                caFile: {{vault.CaFile}}
                retry: { attempts: 1 }
                {{ClusterEnvironment.PodIdentityAuth}}
            """);
        _policies = Path.Combine(_folder, "policies");
        Directory.CreateDirectory(_policies);
        await File.WriteAllTextAsync(Path.Combine(_policies, "shop.yaml"), PodIdentityChecks.ShopPolicy("vault-prod", "secret/shop/**"));
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var result = await CliRunner.RunAsync([.. args, "--config", _config, "--policies", _policies, "--kubeconfig", _kubeconfig]);
        var printed = result.Out + result.Err;
        Assert.DoesNotContain("cluster-only-", printed, StringComparison.Ordinal);
        Assert.DoesNotContain(_cluster.Api.IssuedTokens.Concat(_cluster.Vault.IssuedTokens), t => printed.Contains(t, StringComparison.Ordinal));
        return result;
    }

    [Fact]
    public async Task Resolve_as_a_service_account_reads_with_its_own_vault_role()
    {
        var (code, output, stderr) = await RunAsync("resolve", Ref, "--as", "shop/checkout");

        Assert.Equal(ExitCodes.Ok, code);
        Assert.Empty(stderr);
        Assert.Contains("read as:  service account shop/checkout", output, StringComparison.Ordinal);
        Assert.Contains("version:  1", output, StringComparison.Ordinal);
        Assert.Equal(["shop-checkout secret/data/shop/db"], _cluster.Vault.ReadsByRole);
    }

    [Fact]
    public async Task Resolve_as_a_service_account_the_vault_refuses_exits_1_naming_it_and_the_role()
    {
        var (code, _, stderr) = await RunAsync("resolve", Ref, "--as", "shop/intruder");

        Assert.Equal(ExitCodes.Failed, code);
        Assert.StartsWith($"configinjector: {Ref}: refused: vault refused service account shop/intruder (Vault role shop-intruder)", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.TrimEnd('\n').Split('\n'));
    }

    [Theory]
    [InlineData("shop", "--as \"shop\": expected NAMESPACE/SERVICEACCOUNT, e.g. shop/checkout")]
    [InlineData("shop/checkout/x", "--as \"shop/checkout/x\": expected NAMESPACE/SERVICEACCOUNT, e.g. shop/checkout")]
    [InlineData("/checkout", "--as \"/checkout\": expected NAMESPACE/SERVICEACCOUNT, e.g. shop/checkout")]
    [InlineData("Shop/checkout", "--as \"Shop/checkout\": expected NAMESPACE/SERVICEACCOUNT, e.g. shop/checkout")]
    public async Task A_malformed_as_exits_2_with_one_line(string readAs, string error)
    {
        var (code, _, stderr) = await RunAsync("resolve", Ref, "--as", readAs);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal($"configinjector: {error}\n", stderr);
    }

    [Fact]
    public async Task Resolve_of_a_pod_identity_backend_without_as_exits_2_saying_how_to_name_one()
    {
        var (code, _, stderr) = await RunAsync("resolve", Ref);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal($"configinjector: {Ref}: backend \"vault-prod\" reads as the pod's service account (identity: pod); name one with --as NAMESPACE/SERVICEACCOUNT\n", stderr);
        Assert.Equal(0, _cluster.Api.Count("POST serviceaccounts/token"));
    }

    [Fact]
    public async Task Policy_check_says_whether_the_vault_allows_the_service_account_as_well_as_the_policy()
    {
        var allowed = await RunAsync("policy", "check", "--namespace", "shop", "--service-account", "checkout", Ref);
        var refused = await RunAsync("policy", "check", "--namespace", "shop", "--service-account", "intruder", Ref);

        Assert.Equal(ExitCodes.Ok, allowed.Code);
        Assert.Contains("vault: allowed  service account shop/checkout may read it (version 1)", allowed.Out, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Failed, refused.Code);
        Assert.Contains($"allowed  {Ref}  by SecretPolicy shop rules[0]", refused.Out, StringComparison.Ordinal);
        Assert.Contains("vault: refused  vault refused service account shop/intruder (Vault role shop-intruder)", refused.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Policy_check_with_the_vault_out_of_reach_says_so_and_fails()
    {
        await _cluster.Vault.StopAsync();

        var (code, output, _) = await RunAsync("policy", "check", "--namespace", "shop", "--service-account", "checkout", Ref);

        Assert.Equal(ExitCodes.Failed, code);
        Assert.Contains("vault: unreachable  ", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Template_check_reads_as_each_pod_template_service_account()
    {
        var manifest = Path.Combine(_folder, "deployment.yaml");
        await File.WriteAllTextAsync(manifest, """
            apiVersion: apps/v1
            kind: Deployment
            metadata: { name: checkout }
            spec:
              template:
                metadata:
                  annotations:
                    configinjector.io/template.DATABASE_URL: "pg://${vault-prod:secret/shop/db#user}:${vault-prod:secret/shop/db#password}@db/shop"
                spec:
                  serviceAccountName: checkout
                  containers: [{ name: app, image: app }]
            """);

        var (code, output, _) = await RunAsync("template", "check", "-f", manifest, "--namespace", "shop");

        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("allowed  vault-prod:secret/shop/db#password  by SecretPolicy shop rules[0], version 1", output, StringComparison.Ordinal);
        Assert.All(_cluster.Vault.ReadsByRole, r => Assert.Equal("shop-checkout secret/data/shop/db", r));
    }

    [Fact]
    public async Task Report_reads_the_latest_version_as_the_service_account_the_managed_secret_records()
    {
        var server = await _cluster.StartReplicaAsync(vaultAuth: ClusterEnvironment.PodIdentityAuth, cacheTtl: "5m");
        var rs = _cluster.Api.AddDeployment("shop", "checkout");
        await _cluster.AdmitAsync(server, ClusterEnvironment.PodOf(rs).WithServiceAccount("checkout").WithAnnotation("configinjector.io/secret.DB_PASSWORD", Ref), "checkout-1");
        var before = _cluster.Vault.ReadsByRole.Count;

        var (code, output, stderr) = await RunAsync("report", "--ref", "vault-prod:secret/shop/db", "--output", "json");

        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("\"current\": 1", output, StringComparison.Ordinal);
        Assert.DoesNotContain("backend error", output + stderr, StringComparison.Ordinal);
        Assert.True(_cluster.Vault.ReadsByRole.Count > before, "the report read the latest version");
        Assert.All(_cluster.Vault.ReadsByRole, r => Assert.Equal("shop-checkout secret/data/shop/db", r));
    }
}
