using ConfigInjector.Hosting;
using ConfigInjector.Sync;
using ConfigInjector.TestSupport.Builders;
using ConfigInjector.TestSupport.Fakes;
using k8s.Models;

namespace ConfigInjector.TestSupport;

/// <summary>
/// A cluster as far as ConfigInjector can tell: the fake kube-apiserver and the Vault fake, and webhook replicas
/// (each with its own sync worker) configured through a kubeconfig and config/injector.yaml, with a 1s rotation interval.
/// </summary>
public sealed class ClusterEnvironment : IAsyncDisposable
{
    private readonly List<WebhookServer> _replicas = [];

    private ClusterEnvironment(KubeApiFake api, VaultFake vault)
    {
        Api = api;
        Vault = vault;
    }

    public KubeApiFake Api { get; }
    public VaultFake Vault { get; }

    public static async Task<ClusterEnvironment> StartAsync()
    {
        var vault = await VaultFake.StartAsync();
        vault.EnableKv("secret", 2);
        vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "cluster-only-password-v1", ["user"] = "shop" });
        vault.Put("secret/shop/tls", new Dictionary<string, string> { ["ca"] = "cluster-only-ca-v1" });
        return new ClusterEnvironment(await KubeApiFake.StartAsync(), vault);
    }

    /// <param name="policiesFromCluster">Read SecretPolicies and ConfigProfiles as custom resources from the fake API instead of the folder.</param>
    /// <param name="settings">Further serve settings (e.g. --report-access).</param>
    /// <param name="rotation">The shop policy's rotation (a long interval shows what else than the interval makes a Secret due).</param>
    /// <param name="vaultAuth">The Vault backend's auth (and identity) lines, e.g. <see cref="PodIdentityAuth"/>.</param>
    /// <param name="refreshBatchWindow">How long the leader gathers refresh requests into one pass.</param>
    /// <param name="services">Replaces the host's registrations (e.g. <see cref="RecordingRefreshRequester.Register"/>).</param>
    public async Task<WebhookServer> StartReplicaAsync(string identity = "replica-a", int maxConcurrentRestarts = 5, string onBackendError = "deny", bool policiesFromCluster = false, string cacheTtl = "1s",
        string policyNamespaces = "[shop]", Func<ServeSettings, ServeSettings>? settings = null, string vaultAuth = "auth: { token: { file: token } }",
        string rotation = "{ interval: 1s, onChange: restart, debounce: 1s }", Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? services = null,
        string refreshBatchWindow = "2s", bool steadyLeader = false)
    {
        // Short terms let tests see failover in seconds; a steady leader keeps its term on a loaded machine, for
        // tests that count what one term does (a new term makes every Secret due, and so reads everything again).
        var (leaseDuration, renewDeadline, retryPeriod) = steadyLeader ? ("60s", "40s", "2s") : ("3s", "2s", "500ms");
        var server = await WebhookServer.StartAsync(workDir =>
        {
            Directory.CreateDirectory(Path.Combine(workDir, "config"));
            File.WriteAllText(Path.Combine(workDir, "config", "token"), VaultFake.RootToken);
            File.WriteAllText(Path.Combine(workDir, "config", "injector.yaml"), $$"""
                backends:
                  - name: vault-prod
                    type: vault
                    address: {{Vault.Address}}
                    caFile: {{Vault.CaFile}}
                    retry: { attempts: 1 }
                    {{vaultAuth}}
                cache: { ttl: {{cacheTtl}} }
                sync:
                  tick: 100ms
                  maxConcurrentRestarts: {{maxConcurrentRestarts}}
                  backendReadsPerSecond: 1000
                  missedInjectionScanInterval: 1s
                  adoptionGracePeriod: 2s
                  leaseDuration: {{leaseDuration}}
                  renewDeadline: {{renewDeadline}}
                  retryPeriod: {{retryPeriod}}
                  refreshBatchWindow: {{refreshBatchWindow}}
                """);
            File.WriteAllText(Path.Combine(workDir, "examples", "policies", "shop.yaml"), $$"""
                apiVersion: configinjector.io/v1alpha1
                kind: SecretPolicy
                metadata: { name: shop }
                spec:
                  subjects: { namespaces: {{policyNamespaces}} }
                  rules:
                    - backend: vault-prod
                      paths: ["secret/shop/**"]
                  rotation: {{rotation}}
                  onBackendError: {{onBackendError}}
                """);
        }, settings: s => (settings ?? (x => x))(s with
        {
            Kubeconfig = Api.WriteKubeconfig(s.WorkingDirectory, token: identity),
            LeaseIdentity = new LeaseIdentity("config-injector", identity),
            PoliciesFolder = policiesFromCluster ? null : Path.Combine(s.WorkingDirectory, "examples", "policies"),
        }), services: services);
        _replicas.Add(server);
        return server;
    }

    /// <summary>One value of a Secret as the fake API server holds it (base64 in <c>data</c>), decoded.</summary>
    public static string SecretValue(System.Text.Json.Nodes.JsonObject? secret, string key) =>
        System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(secret!["data"]![key]!.GetValue<string>()));

    /// <summary>A pod of the given ReplicaSet, as the ReplicaSet controller sends it to admission (its labels match the ReplicaSet's selector).</summary>
    public static PodBuilder PodOf((string Name, string Uid) replicaSet)
    {
        var pod = PodBuilder.Injected("").InNamespace("shop").WithOwner(new V1OwnerReference
        {
            ApiVersion = "apps/v1",
            Kind = "ReplicaSet",
            Name = replicaSet.Name,
            Uid = replicaSet.Uid,
            Controller = true,
            BlockOwnerDeletion = true,
        });
        foreach (var (key, value) in KubeApiFakeExtensions.PodLabels(replicaSet))
            pod.WithLabel(key, value);
        return pod;
    }

    /// <summary>
    /// Admits the pod through <paramref name="server"/> and stores it as the API server would keep it (named, created
    /// now): what the sync worker finds when it decides whether a restart is due. Returns the managed Secret's name.
    /// </summary>
    public async Task<string> AdmitAsync(WebhookServer server, PodBuilder pod, string name, string ns = "shop")
    {
        var review = await server.ReviewPodAsync(pod, ns);
        Xunit.Assert.True(review.Allowed, review.Message);
        return StoreAdmitted(pod, review, name, ns);
    }

    /// <summary>Stores a pod already admitted (<paramref name="review"/> holds the webhook's answer) as the API server would keep it; returns the managed Secret's name.</summary>
    public string StoreAdmitted(PodBuilder pod, ReviewResult review, string name, string ns = "shop") => Api.StoreAdmitted(pod, review, name, ns);

    /// <summary><c>identity: pod</c>: each pod's reads are made as its service account, logged in with role <c>&lt;namespace&gt;-&lt;serviceAccount&gt;</c>.</summary>
    public const string PodIdentityAuth = "identity: pod\n    auth: { kubernetes: { mount: kubernetes, audience: vault, roleTemplate: \"{namespace}-{serviceAccount}\" } }";

    public async ValueTask DisposeAsync()
    {
        // Every cluster and sync test ends with each replica's log and every Event scanned for the Vault's values,
        // and for every service-account token and Vault token the fakes handed out.
        var tokens = Api.IssuedTokens.Concat(Vault.IssuedTokens).ToList();
        foreach (var replica in _replicas)
        {
            replica.AssertNoValueInLogs("cluster-only-");
            foreach (var token in tokens)
                replica.AssertNoValueInLogs(token);
        }
        Xunit.Assert.DoesNotContain(Api.All("events"), e => e.ToJsonString().Contains("cluster-only-", StringComparison.Ordinal) || tokens.Any(t => e.ToJsonString().Contains(t, StringComparison.Ordinal)));
        foreach (var replica in _replicas)
            await replica.DisposeAsync();
        await Api.DisposeAsync();
        await Vault.DisposeAsync();
    }
}
