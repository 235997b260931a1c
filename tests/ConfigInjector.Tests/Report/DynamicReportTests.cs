using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using ConfigInjector.Cli;
using ConfigInjector.Report;
using ConfigInjector.Tests.Dynamic;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Fakes;

namespace ConfigInjector.Tests.Report;

/// <summary>
/// <c>report</c> on dynamic refs, against the fake API server and the Vault fake's database engine: each pod's lease
/// from its managed Secret's lease record (expiry, renewal, max TTL), an ended or unrecorded lease flagged, the vault never
/// asked (neither read nor issued) for a dynamic path, a caller who may not read the injector's namespace told so in a
/// note, and no lease id, username or password in any output.
/// </summary>
public sealed class DynamicReportTests : IAsyncLifetime
{
    private const string Pattern = "vault-prod:database/**";
    private const string CliToken = "security-oncall";
    private ClusterEnvironment _cluster = null!;
    private WebhookServer _server = null!;
    private string _kubeconfig = null!;
    private DateTimeOffset _admittedAt;

    private KubeApiFake Api => _cluster.Api;
    private VaultFake Vault => _cluster.Vault;

    public async Task InitializeAsync()
    {
        _cluster = await ClusterEnvironment.StartAsync();
        Vault.AddDatabaseRole("database", "shop", TimeSpan.FromHours(1), TimeSpan.FromHours(24));
        Api.AddTokenFor(ReportAccess.TokenAudience, "oncall-token", "alice", "security");
        Api.Put("secretpolicies", JsonNode.Parse("""
            {"apiVersion": "configinjector.io/v1alpha1", "kind": "SecretPolicy", "metadata": {"name": "shop"},
             "spec": {"subjects": {"namespaces": ["shop"]}, "rotation": {"interval": "1m", "onChange": "restart"},
                      "rules": [{"backend": "vault-prod", "paths": ["database/creds/shop"], "dynamic": true}, {"backend": "vault-prod", "paths": ["secret/shop/**"]}]}}
            """)!.AsObject());
        _server = await _cluster.StartReplicaAsync(policiesFromCluster: true, settings: s => s with { ReportAccess = "group:security" });
        await Eventually.TrueAsync(() => _server.Client.GetAsync("/readyz").Result.IsSuccessStatusCode, "readiness after the policy informers synced");
        _kubeconfig = Api.WriteKubeconfig(ScratchDirectory.Create(), token: CliToken);
        _admittedAt = DateTimeOffset.UtcNow;
        await _cluster.AdmitAsync(_server, ClusterEnvironment.PodOf(Api.AddDeployment("shop", "orders"))
            .WithAnnotation("configinjector.io/secret.DB_USER", "vault-prod:database/creds/shop#username")
            .WithAnnotation("configinjector.io/secret.DB_PASSWORD", "vault-prod:database/creds/shop#password")
            .WithAnnotation("configinjector.io/secret.API_KEY", "vault-prod:secret/shop/db#password"), "orders-a");
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private Task<(int Code, string Out, string Err)> Report(params string[] args) =>
        CliRunner.RunAsync(["report", "--ref", Pattern, "--kubeconfig", _kubeconfig, "--config", Path.Combine(_server.WorkDir, "config", "injector.yaml"), .. args]);

    private static JsonNode Row(string json, string key) =>
        JsonNode.Parse(json)!["rows"]!.AsArray().Single(r => r!["ref"]!.GetValue<string>() == "vault-prod:database/creds/shop#" + key)!;

    [Fact]
    public async Task A_dynamic_pod_shows_its_lease_expiry_and_the_vault_is_not_asked()
    {
        var vaultCalls = Vault.Requests.Count(r => r.Contains("database", StringComparison.Ordinal));
        var issued = Vault.CredentialsIssued;

        var (code, json, stderr) = await Report("--output", "json");
        var (_, table, _) = await Report();
        var (_, html, _) = await Report("--output", "html");

        // Neither an issue (a new credential just to look) nor a KV read of the path (refused as not KV, after a mount lookup).
        Assert.Equal(issued, Vault.CredentialsIssued);
        Assert.Equal(vaultCalls, Vault.Requests.Count(r => r.Contains("database", StringComparison.Ordinal)));
        Assert.True(code == ExitCodes.Ok, stderr + json);
        var row = Row(json, "password");
        var lease = row["lease"]!;
        Assert.Equal(("live", row["podVersion"]!.GetValue<string>(), true, false), (lease["state"]!.GetValue<string>(), lease["fingerprint"]!.GetValue<string>(),
            lease["renewable"]!.GetValue<bool>(), lease["maxTtlReached"]!.GetValue<bool>()));
        Assert.StartsWith("lease-", lease["fingerprint"]!.GetValue<string>(), StringComparison.Ordinal);
        var expires = DateTimeOffset.Parse(lease["expiresAt"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(expires, _admittedAt.AddHours(1).AddSeconds(-5), DateTimeOffset.UtcNow.AddHours(1));
        Assert.Equal(("current", "none"), (row["standing"]!.GetValue<string>(), row["action"]!.GetValue<string>()));
        Assert.Equal(0, JsonNode.Parse(json)!["summary"]!["leaseEnded"]!.GetValue<int>());
        Assert.Empty(JsonNode.Parse(json)!["notes"]!.AsArray());

        Assert.Contains("LEASE", table.Split('\n')[0], StringComparison.Ordinal);
        Assert.Contains($"expires {expires.UtcDateTime:yyyy-MM-dd HH:mm}Z (in ", table, StringComparison.Ordinal);
        Assert.Contains("<th>lease</th>", html, StringComparison.Ordinal);
        Assert.Contains("<td class=\"lease live\">expires ", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_expired_lease_is_flagged_and_the_report_exits_1()
    {
        // The vault was sealed past the lease's end, so the leader could neither renew nor re-issue it: its record still
        // holds the lease, which (by the wall clock the CLI reads) ended an hour ago.
        Vault.Sealed = true;
        Api.EditLeaseRecord(record => record.EndedAt(DateTimeOffset.UtcNow.AddHours(-1)));

        var (code, json, _) = await Report("--output", "json");
        var (_, table, _) = await Report();

        Assert.Equal(ExitCodes.Failed, code);
        var row = Row(json, "username");
        Assert.Equal(("expired", "stale"), (row["lease"]!["state"]!.GetValue<string>(), row["standing"]!.GetValue<string>()));
        Assert.StartsWith("lease expired: not renewed or re-issued by the injector", row["action"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("EXPIRED ", table, StringComparison.Ordinal);
        Assert.Contains("(1h00m ago)", table, StringComparison.Ordinal);
        Assert.EndsWith("; 1 of them on a dynamic credential whose lease has expired or is not recorded\n", table, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pod_whose_lease_record_is_missing_is_flagged()
    {
        var record = Api.All("secrets", "config-injector").Single(s => s["metadata"]!["labels"]?[KubernetesLeaseRecordsLabel] is not null);
        Api.Delete("secrets", "config-injector", record["metadata"]!["name"]!.GetValue<string>());

        var (code, json, _) = await Report("--output", "json");

        Assert.Equal(ExitCodes.Failed, code);
        var row = Row(json, "password");
        Assert.Equal(("not-recorded", "stale"), (row["lease"]!["state"]!.GetValue<string>(), row["standing"]!.GetValue<string>()));
        Assert.Equal("NO LEASE RECORD: nothing renews or revokes it; it ends at its TTL", row["lease"]!["text"]!.GetValue<string>());
        Assert.Equal("no lease record: nothing renews or revokes this credential, it stops working at its TTL, and new pods are issued recorded ones; restart pending", row["action"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_caller_who_may_not_read_secrets_in_the_injectors_namespace_gets_the_report_with_a_note()
    {
        // A person whose Role covers namespace shop only.
        Api.Forbid(CliToken, "list", "secrets", "config-injector");
        var vaultCalls = Vault.Requests.Count(r => r.Contains("database", StringComparison.Ordinal));

        var (code, json, stderr) = await Report("--output", "json", "--namespace", "shop");

        Assert.True(code == ExitCodes.Ok, stderr + json);
        Assert.Equal("unread", Row(json, "password")["lease"]!["state"]!.GetValue<string>());
        var note = Assert.Single(JsonNode.Parse(json)!["notes"]!.AsArray())!.GetValue<string>();
        Assert.Equal("lease records not readable (Kubernetes API 403: the service account may not list secrets in namespace config-injector (add it to the ClusterRole, see README \"RBAC\")): lease expiries of dynamic refs are not shown", note);
        Assert.Equal(vaultCalls, Vault.Requests.Count(r => r.Contains("database", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task The_endpoint_shows_the_lease_and_no_output_holds_a_lease_id_username_or_password()
    {
        var outputs = new List<string>();
        foreach (var format in new[] { "table", "json", "yaml", "html" })
        {
            var (_, output, stderr) = await Report("--output", format);
            outputs.Add(output + stderr);
        }
        foreach (var query in new[] { "", "&output=json" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/report?ref=" + Uri.EscapeDataString(Pattern) + query);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "oncall-token");
            using var response = await _server.Client.SendAsync(request);
            outputs.Add(await response.Content.ReadAsStringAsync());
        }

        Assert.Equal("live", Row(outputs[^1], "username")["lease"]!["state"]!.GetValue<string>());
        Assert.Contains("<td class=\"lease live\">expires ", outputs[^2], StringComparison.Ordinal);
        var hidden = Vault.LeaseIds.Concat(Vault.IssuedCredentials).ToList();
        Assert.Equal(3, hidden.Count);
        foreach (var output in outputs)
        {
            foreach (var secret in hidden)
                Assert.DoesNotContain(secret, output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Restart_rolls_a_workload_whose_lease_ended()
    {
        Vault.Sealed = true;
        Api.EditLeaseRecord(record => record.EndedAt(DateTimeOffset.UtcNow.AddHours(-1)));

        var restarting = Report("--restart", "--output", "json");
        // Its new pods are admitted with new credentials (EndedLeaseAdmissionTests); the old ones hold a dead one.
        await Eventually.TrueAsync(() => Api.RestartedAt("shop", "orders") is not null, "orders to be restarted");
        Api.CompleteRollout("shop", "orders");
        var (code, json, stderr) = await restarting;

        Assert.Contains("restarting 1 workloads: Deployment shop/orders", stderr, StringComparison.Ordinal);
        Assert.EndsWith("; restart pending", Row(json, "username")["action"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Failed, code);
        Assert.Single(Api.Events("RolloutRestart"));
    }

    private const string KubernetesLeaseRecordsLabel = ConfigInjector.Kubernetes.KubernetesLeaseRecords.Label;
}
