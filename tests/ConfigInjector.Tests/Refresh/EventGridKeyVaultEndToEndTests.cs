using System.Net;
using System.Text.Json.Nodes;
using ConfigInjector.Sync;
using ConfigInjector.Tests.Backends;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Fakes;

namespace ConfigInjector.Tests.Refresh;

/// <summary>
/// An Event Grid subscription on a Key Vault end to end, through the real host (its <c>/refresh</c> open to the shared
/// secret, its sync worker leading, its own refresh requester): a new secret version in the Key Vault fake and Key
/// Vault's <c>SecretNewVersionCreated</c> delivered in the Event Grid schema reach the managed Secret in the fake API
/// server within seconds although its interval is an hour; a delivery about another vault changes nothing.
/// </summary>
public sealed class EventGridKeyVaultEndToEndTests : IAsyncLifetime
{
    private const string SecretName = "db-password";
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(1);

    private KubeApiFake _api = null!;
    private KeyVaultFake _keyVault = null!;
    private WebhookServer _server = null!;

    public async Task InitializeAsync()
    {
        _api = await KubeApiFake.StartAsync();
        _keyVault = await KeyVaultFake.StartAsync();
        _keyVault.Set(SecretName, "kv-only-password-v1");
        _server = await WebhookServer.StartAsync(Prepare, settings: s => s with
        {
            ConfigFile = "config/injector.yaml",
            Kubeconfig = _api.WriteKubeconfig(s.WorkingDirectory, token: "replica-a"),
            LeaseIdentity = new LeaseIdentity("config-injector", "replica-a"),
            PoliciesFolder = Path.Combine(s.WorkingDirectory, "examples", "policies"),
            RefreshAccess = "secret-file:config/refresh-secret",
        });
        await _server.UntilLeadingAndSyncedAsync();
    }

    public async Task DisposeAsync()
    {
        _server.AssertNoValueInLogs("kv-only-");
        Assert.DoesNotContain(_api.All("events"), e => e.ToJsonString().Contains("kv-only-", StringComparison.Ordinal));
        await _server.DisposeAsync();
        await _keyVault.DisposeAsync();
        await _api.DisposeAsync();
    }

    [Fact]
    public async Task A_new_version_delivered_by_event_grid_updates_the_managed_secret_within_seconds_and_another_vaults_event_changes_nothing()
    {
        var pod = ClusterEnvironment.PodOf(_api.AddDeployment("shop", "checkout")).WithAnnotation("configinjector.io/secret.DB_PASSWORD", "kv-prod:" + SecretName);
        var review = await _server.ReviewPodAsync(pod, "shop");
        Assert.True(review.Allowed, review.Message);
        var name = _api.StoreAdmitted(pod, review, "checkout-1", "shop");
        Assert.Equal("kv-only-password-v1", Value(name));
        var version = _keyVault.Set(SecretName, "kv-only-password-v2");
        var reads = _keyVault.Count("GET secret " + SecretName);

        using (var other = await _server.PostAsync($"[{EventDeliveries.KeyVaultEvent("kv-other", SecretName)}]"))
        {
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
            var answer = JsonNode.Parse(await other.Content.ReadAsStringAsync())!;
            Assert.Equal((0, 1), (answer["secretsMadeDue"]!.GetValue<int>(), answer["ignoredEvents"]!.GetValue<int>()));
        }
        // Long enough for a batch the other vault's event had wrongly asked for to be served.
        await Task.Delay(Window * 2 + TimeSpan.FromSeconds(1));
        Assert.Equal("kv-only-password-v1", Value(name));
        Assert.Equal(reads, _keyVault.Count("GET secret " + SecretName));
        Assert.Contains("configinjector_refresh_requests_total{trigger=\"event-grid\",result=\"nothing_matched\"} 1", await _server.MetricsAsync(), StringComparison.Ordinal);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        using (var delivery = await _server.PostAsync(EventDeliveries.KeyVaultDeliveryAt(_keyVault.Address, "kv-prod", SecretName, version)))
        {
            Assert.Equal(HttpStatusCode.OK, delivery.StatusCode);
            Assert.Equal(1, JsonNode.Parse(await delivery.Content.ReadAsStringAsync())!["secretsMadeDue"]!.GetValue<int>());
        }
        await Eventually.TrueAsync(() => Value(name) == "kv-only-password-v2", "the managed Secret to take the new version", TimeSpan.FromSeconds(15));
        // The batch window and a tick with room for a slow machine; polling would take an hour.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(12), $"{clock.Elapsed} from the delivery to the Secret updated");
        Assert.Contains("configinjector_refresh_requests_total{trigger=\"event-grid\",result=\"refreshed\"} 1", await _server.MetricsAsync(), StringComparison.Ordinal);
    }

    private string Value(string name) => ClusterEnvironment.SecretValue(_api.Get("secrets", "shop", name), "DB_PASSWORD");

    private void Prepare(string work)
    {
        Directory.CreateDirectory(Path.Combine(work, "config"));
        File.WriteAllText(Path.Combine(work, "config", "client-secret"), KeyVaultFake.ClientSecret);
        File.WriteAllText(Path.Combine(work, "config", "refresh-secret"), RefreshServer.Secret + "\n");
        // A steady leader: its term outlasts a loaded machine's stalls (a new term would make every Secret due).
        File.WriteAllText(Path.Combine(work, "config", "injector.yaml"), "backends:\n" + KeyVaultTestBackends.ConfigYaml(_keyVault, "kv-prod", "client-secret") + $"""
            sync:
              tick: 100ms
              leaseDuration: 60s
              renewDeadline: 40s
              retryPeriod: 2s
              refreshBatchWindow: {(int)Window.TotalSeconds}s
            """);
        File.WriteAllText(Path.Combine(work, "examples", "policies", "kv.yaml"), """
            apiVersion: configinjector.io/v1alpha1
            kind: SecretPolicy
            metadata: { name: kv-shop }
            spec:
              subjects: { namespaces: [shop] }
              rules:
                - backend: kv-prod
                  paths: ["db-*"]
              rotation: { interval: 1h, onChange: restart }
            """);
    }
}
