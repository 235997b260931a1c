using System.Globalization;
using System.Text.Json.Nodes;
using ConfigInjector.Core.Planning;
using ConfigInjector.ManagedSecrets;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Fakes;

namespace ConfigInjector.Tests.Dynamic;

/// <summary>
/// A pod admitted after its managed Secret's lease ended — the leader was down or Vault sealed past the TTL, so nobody
/// renewed or re-issued it — starts with the new credential the admission issues, written into the existing Secret
/// (an admission otherwise keeps an existing Secret's data), and the pods that started with the dead one get a restart.
/// Through a replica that does not lead, so no lease keeper repairs the Secret behind the test's back.
/// </summary>
public sealed class EndedLeaseAdmissionTests : IAsyncLifetime
{
    private ClusterEnvironment _cluster = null!;
    private WebhookServer _server = null!;
    private (string Name, string Uid) _replicaSet;

    private KubeApiFake Api => _cluster.Api;
    private VaultFake Vault => _cluster.Vault;

    public async Task InitializeAsync()
    {
        _cluster = await ClusterEnvironment.StartAsync();
        Vault.AddDatabaseRole("database", "shop", TimeSpan.FromHours(1), TimeSpan.FromHours(24));
        Api.Put("leases", new JsonObject
        {
            ["apiVersion"] = "coordination.k8s.io/v1",
            ["kind"] = "Lease",
            ["metadata"] = new JsonObject { ["name"] = ConfigInjector.Hosting.ReleaseNames.Default.Lease, ["namespace"] = "config-injector" },
            ["spec"] = new JsonObject { ["holderIdentity"] = "replica-z", ["leaseDurationSeconds"] = 3600, ["renewTime"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture) },
        });
        Api.Put("secretpolicies", JsonNode.Parse("""
            {"apiVersion": "configinjector.io/v1alpha1", "kind": "SecretPolicy", "metadata": {"name": "shop"},
             "spec": {"subjects": {"namespaces": ["shop"]}, "rotation": {"interval": "1m", "onChange": "restart"},
                      "rules": [{"backend": "vault-prod", "paths": ["database/creds/shop"], "dynamic": true}]}}
            """)!.AsObject());
        _server = await _cluster.StartReplicaAsync(policiesFromCluster: true);
        await Eventually.TrueAsync(() => _server.Client.GetAsync("/readyz").Result.IsSuccessStatusCode, "readiness after the policy informers synced");
        _replicaSet = Api.AddDeployment("shop", "orders");
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private Task<string> AdmitAsync(string name) => _cluster.AdmitAsync(_server, ClusterEnvironment.PodOf(_replicaSet)
        .WithAnnotation("configinjector.io/secret.DB_USER", "vault-prod:database/creds/shop#username")
        .WithAnnotation("configinjector.io/secret.DB_PASSWORD", "vault-prod:database/creds/shop#password"), name);

    private (string User, string Password) Credential(string secretName)
    {
        var secret = Api.Get("secrets", "shop", secretName);
        return (ClusterEnvironment.SecretValue(secret, "DB_USER"), ClusterEnvironment.SecretValue(secret, "DB_PASSWORD"));
    }

    [Fact]
    public async Task A_pod_admitted_after_the_lease_ended_starts_with_a_new_credential_and_the_older_pods_get_a_restart()
    {
        var secretName = await AdmitAsync("orders-a");
        var dead = Credential(secretName);
        var deadLease = Vault.LeaseIds.Single();
        // Nobody renewed it: Vault ended the lease, and the record still holds it, ended.
        Vault.EndLease(deadLease);
        Api.EditLeaseRecord(record => record.EndedAt(DateTimeOffset.UtcNow.AddSeconds(-1)));
        Assert.False(Vault.CanLogIn(dead.User, dead.Password));

        Assert.Equal(secretName, await AdmitAsync("orders-b"));

        var fresh = Credential(secretName);
        Assert.Equal(2, Vault.CredentialsIssued);
        Assert.True(Vault.CanLogIn(fresh.User, fresh.Password), "the new pod's managed Secret holds a credential Vault accepts");
        var annotations = Api.Get("secrets", "shop", secretName)!["metadata"]!["annotations"]!.AsObject();
        var newVersion = ManagedSecretFactory.ParseSources(annotations[ManagedSecretFactory.SourcesAnnotation]!.GetValue<string>())!["DB_USER"].Version;
        Assert.Equal(newVersion, ManagedSecretFactory.ParseSources(annotations[ManagedSecretFactory.SourcesAnnotation]!.GetValue<string>())!["DB_PASSWORD"].Version);
        // orders-a started with the dead credential: a restart is due for it, naming the ref and the new version.
        Assert.Contains($"vault-prod:database/creds/shop#username@{newVersion}", annotations[RestartRecord.Annotation]!.GetValue<string>(), StringComparison.Ordinal);
        var leaks = new Fuzzing.LeakScan([.. Vault.LeaseIds, .. Vault.IssuedCredentials]);
        Assert.Null(leaks.FindInText(_server.AllLogText() + string.Join("\n", annotations.Select(a => a.Value?.ToString()))));
    }

    [Fact]
    public async Task A_live_lease_is_reused_and_the_managed_secret_is_not_rewritten()
    {
        var secretName = await AdmitAsync("orders-a");
        var written = Api.Get("secrets", "shop", secretName)!["metadata"]!["resourceVersion"]!.GetValue<string>();
        var issued = Credential(secretName);

        await AdmitAsync("orders-b");

        Assert.Equal(1, Vault.CredentialsIssued);
        Assert.Equal(issued, Credential(secretName));
        Assert.Null(Api.Get("secrets", "shop", secretName)!["metadata"]!["annotations"]![RestartRecord.Annotation]);
        // The ReplicaSet owns the Secret already: nothing is written for its second pod.
        Assert.Equal(written, Api.Get("secrets", "shop", secretName)!["metadata"]!["resourceVersion"]!.GetValue<string>());
    }
}
