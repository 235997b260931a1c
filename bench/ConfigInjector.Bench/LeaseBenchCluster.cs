using System.Globalization;
using System.Text.Json.Nodes;
using ConfigInjector.Backends;
using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Planning;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using ConfigInjector.Kubernetes;
using ConfigInjector.ManagedSecrets;
using ConfigInjector.Observability;
using ConfigInjector.Sync;
using ConfigInjector.TestSupport.Fakes;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Prometheus;

namespace ConfigInjector.Bench;

/// <summary>
/// What the leases scenario runs against: the fake kube-apiserver and the Vault fake (its database engine on the same
/// fake clock as the lease keeper) over loopback HTTPS, holding N workloads with one dynamic credential each (a lease
/// record in the injector's namespace, the managed Secret, one pod) and, for the baseline, N managed Secrets with one
/// KV ref each — what admission would have left, spread over 20 namespaces.
/// </summary>
internal sealed class LeaseBenchCluster : IAsyncDisposable
{
    public const string InjectorNamespace = "config-injector";
    public static readonly TimeSpan Ttl = TimeSpan.FromHours(1);
    public static readonly TimeSpan MaxTtl = TimeSpan.FromHours(2);
    private const int Namespaces = 20;
    private static readonly SecretLocation Creds = new("vault-bench", "database/creds/app", null);

    private readonly byte[] _signingKey = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
    private readonly IReadOnlyDictionary<string, ISecretBackend> _backends;
    private readonly KubernetesSyncCluster _cluster;
    private readonly BackendLimiter _limiter = new(100_000);

    private LeaseBenchCluster(KubeApiFake api, VaultFake vault, FakeTimeProvider time, IReadOnlyDictionary<string, ISecretBackend> backends, int workloads)
    {
        (Api, Vault, Time, _backends, Workloads) = (api, vault, time, backends, workloads);
        var client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = api.Address.ToString() });
        _cluster = new KubernetesSyncCluster(client, new EventRecorder(client, time, "bench", NullLogger<EventRecorder>.Instance));
        Records = new KubernetesLeaseRecords(client, InjectorNamespace);
        Issuers = new LeaseIssuers(backends, TimeSpan.FromSeconds(30));
        // The keeper's own cost, unpaced: at the default sync.backendReadsPerSecond (50) a pass of 1,000 calls takes 20 s by design.
        Keeper = new LeaseKeeper(_cluster, Records, Issuers, new BackendLimiter(100_000), new StaticSigningKey(_signingKey), SyncSettings.Default, new InjectorMetrics(Metrics.NewCustomRegistry()),
            time, NullLogger<LeaseKeeper>.Instance);
    }

    public KubeApiFake Api { get; }
    public VaultFake Vault { get; }
    public FakeTimeProvider Time { get; }
    public int Workloads { get; }
    public KubernetesLeaseRecords Records { get; }
    public LeaseIssuers Issuers { get; }
    public LeaseKeeper Keeper { get; }

    /// <summary>The KV managed Secrets as the leader's informer keeps them, for the baseline rotation pass.</summary>
    public IReadOnlyList<V1Secret> KvSecrets { get; private set; } = [];

    public static async Task<LeaseBenchCluster> StartAsync(int workloads)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var api = await KubeApiFake.StartAsync();
        var vault = await VaultFake.StartAsync(time);
        vault.AddDatabaseRole("database", "app", Ttl, MaxTtl);
        vault.EnableKv("secret", 2);
        var cluster = new LeaseBenchCluster(api, vault, time, await BenchVault.BackendsAsync(vault, time), workloads);
        await Parallel.ForEachAsync(Enumerable.Range(0, workloads), new ParallelOptions { MaxDegreeOfParallelism = 8 }, (i, token) => new ValueTask(cluster.AddWorkloadAsync(i, token)));
        cluster.AddKvSecrets();
        return cluster;
    }

    private static string Namespace(int i) => $"team-{i % Namespaces}";

    private static string DynamicName(int i) => $"configinjector-db-{i}";

    /// <summary>One workload as admission leaves it: the lease in its record, its keys in the managed Secret, one pod reading it.</summary>
    private async Task AddWorkloadAsync(int i, CancellationToken cancellationToken)
    {
        var (ns, name) = (Namespace(i), DynamicName(i));
        var issued = await Issuers.IssueAsync(Creds, new Subject(ns, "app"), cancellationToken);
        var document = issued.Read.Document ?? throw new InvalidOperationException($"the Vault fake issued nothing: {issued.Read.Reason}");
        var record = new LeaseRecord(ns, name, "app", Time.GetUtcNow(), new Dictionary<SecretLocation, LeasedCredential> { [Creds] = new(Creds, document, issued.Lease!) });
        if (!await Records.TrySaveAsync(record, cancellationToken))
            throw new InvalidOperationException($"record of {ns}/{name} not saved");
        var secret = ManagedSecretFactory.Create(new ManagedSecretSpec(name, ns,
            new Dictionary<string, string> { ["DB_USER"] = document.Data["username"], ["DB_PASSWORD"] = document.Data["password"] },
            new Dictionary<string, KeySource> { ["DB_USER"] = new($"{Creds.Backend}:{Creds.Path}#username", document.Version), ["DB_PASSWORD"] = new($"{Creds.Backend}:{Creds.Path}#password", document.Version) },
            new RotationSettings(TimeSpan.FromMinutes(5), RotationMode.Restart), null, "app"), _signingKey);
        Api.Put("secrets", JsonNode.Parse(KubernetesJson.Serialize(secret))!.AsObject());
        Api.Put("pods", Pod(ns, $"db-{i}", name, Time.GetUtcNow().AddSeconds(-30)));
    }

    private static JsonObject Pod(string ns, string name, string secretName, DateTimeOffset created) => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "Pod",
        ["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["namespace"] = ns,
            ["creationTimestamp"] = Timestamp(created),
            ["annotations"] = new JsonObject { [AnnotationKeys.ManagedSecret] = secretName },
        },
        ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "app", ["image"] = "registry.example/app:1" }) },
        ["status"] = new JsonObject { ["phase"] = "Running" },
    };

    private static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    /// <summary>Every workload rolled: each pod replaced by one created now, so the leases they held may go.</summary>
    public void RollPods()
    {
        for (var i = 0; i < Workloads; i++)
            Api.Update("pods", Namespace(i), $"db-{i}", pod => pod["metadata"]!["creationTimestamp"] = Timestamp(Time.GetUtcNow()));
    }

    private void AddKvSecrets()
    {
        var strings = new SharedStrings();
        var maps = new SharedMaps(strings);
        var kept = new List<V1Secret>();
        for (var i = 0; i < Workloads; i++)
        {
            Vault.Put($"secret/bench/ref-{i}", new Dictionary<string, string> { ["value"] = $"kv-value-{i}" });
            var model = ManagedSecretFactory.Create(new ManagedSecretSpec($"configinjector-kv-{i}", Namespace(i), new Dictionary<string, string> { ["TOKEN"] = $"kv-value-{i}" },
                new Dictionary<string, KeySource> { ["TOKEN"] = new($"vault-bench:secret/bench/ref-{i}#value", "1") },
                new RotationSettings(TimeSpan.FromMinutes(5), RotationMode.None), null, "app"), _signingKey);
            Api.Put("secrets", JsonNode.Parse(KubernetesJson.Serialize(model))!.AsObject());
            var stored = KubernetesJson.Deserialize<V1Secret>(Api.Get("secrets", Namespace(i), model.Metadata.Name)!.ToJsonString());
            kept.Add(KeptSecret.From(stored, _signingKey, strings, maps));
        }
        KvSecrets = kept;
    }

    /// <summary>A rotation pass as the leader builds it (no backend rate limit, as the rotation scenario), with a cold cache: every ref is read.</summary>
    public RotationPass NewRotationPass() => BenchRotationPass.Create(_cluster, _backends, _signingKey, "secret/bench/*", _limiter);

    public async ValueTask DisposeAsync()
    {
        _limiter.Dispose();
        await Api.DisposeAsync();
        await Vault.DisposeAsync();
    }
}
