using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using ConfigInjector.Backends;
using ConfigInjector.Configuration;
using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Planning;
using ConfigInjector.Core.Policies;
using ConfigInjector.Kubernetes;
using ConfigInjector.ManagedSecrets;
using ConfigInjector.Observability;
using ConfigInjector.Policies;
using ConfigInjector.Sync;
using ConfigInjector.TestSupport.Fakes;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Prometheus;

namespace ConfigInjector.Tests.Sync;

/// <summary>
/// The sync worker's parts driven directly, one pass at a time, against the fake API server and the Vault fake:
/// no leader election, no informer, no waiting on the wall clock.
/// </summary>
internal sealed class SyncHarness : IAsyncDisposable
{
    public static readonly byte[] Key = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];

    private SyncHarness(KubeApiFake api, VaultFake vault, IKubernetes client, FixedPolicies policies, FakeTimeProvider time)
    {
        Time = time;
        Api = api;
        Vault = vault;
        Client = client;
        Policies = policies;
        Cluster = new KubernetesSyncCluster(client, new EventRecorder(client, Time, "test", NullLogger<EventRecorder>.Instance));
    }

    public KubeApiFake Api { get; }
    public VaultFake Vault { get; }
    public IKubernetes Client { get; }

    /// <summary>The sync worker's gateway over <see cref="Client"/>, as the composition root builds it.</summary>
    public ISyncCluster Cluster { get; }
    public FixedPolicies Policies { get; }
    public FakeTimeProvider Time { get; }
    public ISigningKey Keys { get; set; } = new StaticSigningKey(Key);

    private IReadOnlyDictionary<string, ISecretBackend>? _backends;

    /// <summary>The restarter of the last <see cref="Pass"/>: what it queued is what the worker would roll.</summary>
    public WorkloadRestarter Restarter { get; private set; } = null!;

    /// <summary>The metrics of the last <see cref="Pass"/> and its restarter.</summary>
    public InjectorMetrics PassMetrics { get; private set; } = null!;

    /// <summary>The restart records of the last <see cref="Pass"/>, worked through by <see cref="Restarter"/>.</summary>
    public RestartRecords Restarts { get; private set; } = null!;

    /// <param name="sharedClock">Gives <see cref="Time"/> to the Vault fake and the API fake too (token lifetimes on the fake clock).</param>
    public static async Task<SyncHarness> StartAsync(bool sharedClock = false)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var api = await KubeApiFake.StartAsync();
        if (sharedClock)
            api.Time = time;
        var vault = await VaultFake.StartAsync(sharedClock ? time : null);
        vault.EnableKv("secret", 2);
        vault.EnableKv("kv", 1);
        var client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = api.Address.ToString() });
        return new SyncHarness(api, vault, client, new FixedPolicies(), time);
    }

    /// <param name="versions">The version key of the process the pass runs in (default: the test install's).</param>
    public RotationPass Pass(IVersionKey? versions = null)
    {
        var tokenFile = Path.Combine(TestSupport.ScratchDirectory.Create(), "token");
        File.WriteAllText(tokenFile, VaultFake.RootToken);
        return PassOver(TestSupport.VaultWebhook.BackendConfig(Vault, tokenFile, "vault-prod", "retry: { attempts: 1 }"),
            new BackendContext(Time, NullLoggerFactory.Instance, versions ?? Backends.TestVersionKeys.Install));
    }

    /// <summary>
    /// A pass whose <c>vault-prod</c> has <c>identity: pod</c>: Kubernetes auth at mount <c>kubernetes</c>, audience
    /// <c>vault</c>, role <c>{namespace}-{serviceAccount}</c>, tokens asked of the API fake. Its logins are <see cref="PodLogins"/>.
    /// </summary>
    public RotationPass PodPass()
    {
        var yaml = $$"""
            backends:
              - name: vault-prod
                type: vault
                address: {{Vault.Address}}
                caFile: {{Vault.CaFile}}
                kvVersion: "2"
                retry: { attempts: 1 }
                identity: pod
                auth: { kubernetes: { mount: kubernetes, audience: vault, roleTemplate: "{namespace}-{serviceAccount}" } }
            """;
        return PassOver(yaml, new BackendContext(Time, NullLoggerFactory.Instance, Backends.TestVersionKeys.Install) { ServiceAccounts = new KubernetesServiceAccounts(Client) });
    }

    /// <summary>
    /// A pass whose <c>kv-prod</c> is <paramref name="keyVault"/> with <c>identity: pod</c>: each service account's
    /// client id from its annotation, its token asked of the API fake and exchanged at the Key Vault fake's Entra endpoint.
    /// </summary>
    /// <param name="logs">Where the pass and the backend log (default: nowhere).</param>
    public RotationPass KeyVaultPodPass(KeyVaultFake keyVault, ILoggerFactory? logs = null)
    {
        logs ??= NullLoggerFactory.Instance;
        return PassOver(keyVault.PodIdentityBackendConfig(), new BackendContext(Time, logs, Backends.TestVersionKeys.Install) { ServiceAccounts = new KubernetesServiceAccounts(Client) }, logs);
    }

    /// <summary>The Key Vault clients kept by the backend of the last <see cref="KeyVaultPodPass"/>.</summary>
    public ConfigInjector.Backends.AzureKeyVault.ServiceAccountClients KeyVaultClients =>
        ((ConfigInjector.Backends.AzureKeyVault.KeyVaultPodBackend)_backends!["kv-prod"]).Clients;

    /// <summary>The Vault logins made so far by the backend of the last <see cref="PodPass"/>, over every service account.</summary>
    public int PodLogins => ((ConfigInjector.Backends.Vault.VaultPodBackend)_backends!["vault-prod"]).Logins.Logins;

    private RotationPass PassOver(string backendConfig, BackendContext context, ILoggerFactory? logs = null)
    {
        var metrics = PassMetrics = new InjectorMetrics(Metrics.NewCustomRegistry());
        var config = ConfigFileReader.Parse(backendConfig, "injector.yaml", "/");
        var backends = _backends = BackendRegistry.Default.CreateAll(config, context);
        Restarter = new WorkloadRestarter(Cluster, SyncSettings.Default, Time, metrics, NullLogger<WorkloadRestarter>.Instance);
        Restarts = new RestartRecords(Cluster, Keys, Restarter, Time, metrics, NullLogger<RestartRecords>.Instance);
        var reader = new SecretReader(backends, metrics, TimeSpan.FromSeconds(10));
        return new RotationPass(Cluster, reader, new SecretCache(reader, Time, TimeSpan.FromMinutes(5), metrics), Keys, Policies,
            new BackendLimiter(1000), Restarts, SyncSettings.Default, Time, metrics, (logs ?? NullLoggerFactory.Instance).CreateLogger<RotationPass>());
    }

    public ManagedSecretCollector Collector() =>
        new(Cluster, Keys, SyncSettings.Default with { AdoptionGracePeriod = TimeSpan.FromMinutes(10) }, Time, NullLogger<ManagedSecretCollector>.Instance);

    /// <summary>A managed Secret as admission writes it, signed with <paramref name="key"/>, stored in the fake API.</summary>
    public V1Secret AddManaged(string ns, string name, string serviceAccount, string env, string reference, string value, byte[]? key = null, V1OwnerReference? owner = null, RotationMode onChange = RotationMode.None) =>
        AddManaged(ns, name, serviceAccount, new Dictionary<string, (string, string)> { [env] = (reference, value) }, key, owner, onChange);

    /// <summary>A managed Secret with several env keys, each from its ref at version 1.</summary>
    public V1Secret AddManaged(string ns, string name, string serviceAccount, IReadOnlyDictionary<string, (string Reference, string Value)> envs, byte[]? key = null, V1OwnerReference? owner = null, RotationMode onChange = RotationMode.None)
    {
        var secret = ManagedSecretFactory.Create(new ManagedSecretSpec(
            name, ns, envs.ToDictionary(e => e.Key, e => e.Value.Value),
            envs.ToDictionary(e => e.Key, e => new KeySource(e.Value.Reference, "1")),
            new RotationSettings(TimeSpan.FromMinutes(5), onChange), owner, serviceAccount), key ?? Key);
        var json = JsonNode.Parse(KubernetesJson.Serialize(secret))!.AsObject();
        json["metadata"]!["creationTimestamp"] = "2020-01-01T00:00:00Z";
        Api.Put("secrets", json);
        return Read(ns, name);
    }

    /// <summary>A running pod of the ReplicaSet (its labels as given) that reads <paramref name="secretName"/>, created at <paramref name="created"/>.</summary>
    public void AddPod(string name, (string Name, string Uid) replicaSet, IReadOnlyDictionary<string, string> labels, DateTimeOffset created, string secretName)
    {
        var labelsJson = new JsonObject();
        foreach (var (key, value) in labels)
            labelsJson[key] = value;
        Api.Put("pods", new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = new JsonObject
            {
                ["name"] = name,
                ["namespace"] = "shop",
                ["creationTimestamp"] = created.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
                ["labels"] = labelsJson,
                ["annotations"] = new JsonObject { [AnnotationKeys.ManagedSecret] = secretName },
                ["ownerReferences"] = new JsonArray(new JsonObject { ["apiVersion"] = "apps/v1", ["kind"] = "ReplicaSet", ["name"] = replicaSet.Name, ["uid"] = replicaSet.Uid, ["controller"] = true }),
            },
            ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "app", ["image"] = "registry.example/app:1" }) },
            ["status"] = new JsonObject { ["phase"] = "Running" },
        });
    }

    /// <summary>What the leader's informer keeps of <paramref name="secret"/>, verified with <paramref name="key"/> (default: the test key).</summary>
    public static V1Secret Kept(V1Secret secret, byte[]? key = null)
    {
        var strings = new SharedStrings();
        return KeptSecret.From(secret, key ?? Key, strings, new SharedMaps(strings));
    }

    public V1Secret Read(string ns, string name) => KubernetesJson.Deserialize<V1Secret>(Api.Get("secrets", ns, name)!.ToJsonString());

    /// <summary>Since when the Secret's signed restart record says a restart is due; null without a valid one.</summary>
    public DateTimeOffset? RestartDue(string ns, string name) => RestartRecord.Read(Keys.GetAsync(CancellationToken.None).AsTask().Result, Read(ns, name));

    public string Value(string ns, string name, string key) => Encoding.UTF8.GetString(Read(ns, name).Data[key]);

    public async ValueTask DisposeAsync()
    {
        await Api.DisposeAsync();
        await Vault.DisposeAsync();
    }
}

internal sealed class FixedPolicies : IPolicySource
{
    public List<SecretPolicy> Policies { get; } = [];

    public IReadOnlyList<SecretPolicy> Current => Policies;

    public IReadOnlyList<ConfigProfile> Profiles => [];

    public bool Ready => true;

    /// <param name="debounce">The policy's rotation.debounce: 1s unless a test is about it, so a restart follows its change within a tick or two.</param>
    /// <param name="backend">The backend the rule is for.</param>
    public FixedPolicies Allow(string name, string ns, string? serviceAccount, string paths, TimeSpan? interval = null, TimeSpan? debounce = null, string backend = "vault-prod")
    {
        Policies.Add(new SecretPolicy(name, new PolicySubjects([ns], serviceAccount is null ? null : [serviceAccount]),
            [new PolicyRule(backend, [paths], null)], new RotationSettings(interval ?? TimeSpan.FromMinutes(5), RotationMode.None) { Debounce = debounce ?? TimeSpan.FromSeconds(1) }, BackendErrorMode.Deny));
        return this;
    }
}
