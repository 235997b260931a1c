using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using ConfigInjector.Sync;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Builders;
using ConfigInjector.TestSupport.Fakes;
using k8s;
using k8s.Models;

namespace ConfigInjector.Bench;

/// <summary>
/// What the refresh-triggers scenario runs against: the fake kube-apiserver, the Vault fake and the Key Vault fake on
/// loopback, and the real <c>serve</c> host in cluster mode, leading (its sync worker rotates), with three backends —
/// <c>vault</c> (polled only), <c>vault-events</c> (the same Vault, <c>events: true</c>) and <c>kv</c> (Key Vault) — and
/// <c>POST /refresh</c> open to a shared secret, as an Event Grid subscription would send it.
/// </summary>
internal sealed class RefreshBenchCluster : IAsyncDisposable
{
    public const string Namespace = "bench";
    public const string ValueKey = "file.value";
    private const string SharedSecret = "bench-refresh-shared-secret";

    private readonly k8s.Kubernetes _kubectl;

    private RefreshBenchCluster(KubeApiFake api, VaultFake vault, KeyVaultFake keyVault, WebhookServer server)
    {
        Api = api;
        Vault = vault;
        KeyVault = keyVault;
        Server = server;
        _kubectl = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = api.Address.ToString() });
    }

    public KubeApiFake Api { get; }
    public VaultFake Vault { get; }
    public KeyVaultFake KeyVault { get; }
    public WebhookServer Server { get; }

    public static async Task<RefreshBenchCluster> StartAsync(TimeSpan interval)
    {
        var api = await KubeApiFake.StartAsync();
        var vault = await VaultFake.StartAsync();
        vault.EnableKv("secret", 2);
        var keyVault = await KeyVaultFake.StartAsync();
        var server = await WebhookServer.StartAsync(work => Prepare(work, vault, keyVault, interval), settings: s => s with
        {
            ConfigFile = "config/injector.yaml",
            PoliciesFolder = Path.Combine(s.WorkingDirectory, "config", "policies"),
            Kubeconfig = api.WriteKubeconfig(s.WorkingDirectory, token: "bench-leader"),
            LeaseIdentity = new LeaseIdentity("config-injector", "bench-leader"),
            RefreshAccess = "secret-file:config/refresh-secret",
        });
        var cluster = new RefreshBenchCluster(api, vault, keyVault, server);
        await server.UntilLeadingAndSyncedAsync(TimeSpan.FromSeconds(30));
        await UntilAsync(() => vault.EventSubscriptions > 0, "the leader to subscribe to Vault's events", TimeSpan.FromSeconds(30));
        return cluster;
    }

    private static void Prepare(string work, VaultFake vault, KeyVaultFake keyVault, TimeSpan interval)
    {
        var config = Directory.CreateDirectory(Path.Combine(work, "config")).FullName;
        Directory.CreateDirectory(Path.Combine(config, "policies"));
        File.WriteAllText(Path.Combine(config, "token"), VaultFake.RootToken);
        File.WriteAllText(Path.Combine(config, "client-secret"), KeyVaultFake.ClientSecret);
        File.WriteAllText(Path.Combine(config, "refresh-secret"), SharedSecret + "\n");
        var vaultLines = $"type: vault\n    address: {vault.Address}\n    caFile: {vault.CaFile}\n    auth: {{ token: {{ file: token }} }}";
        File.WriteAllText(Path.Combine(config, "injector.yaml"), $"""
            backends:
              - name: vault
                {vaultLines}
              - name: vault-events
                {vaultLines}
                events: true
              - name: kv
                type: azure-keyvault
                vaultUri: {keyVault.Address}
                credential: client-secret
                tenantId: {KeyVaultFake.TenantId}
                clientId: {KeyVaultFake.ClientId}
                clientSecretFile: client-secret
                authorityHost: {keyVault.Address}
                caFile: {keyVault.CaFile}
                disableChallengeResourceVerification: true
            """);
        // File consumers and onChange: none: what is measured is the Secret's update, not a restart after it.
        File.WriteAllText(Path.Combine(config, "policies", "bench.yaml"), $$"""
            apiVersion: configinjector.io/v1alpha1
            kind: SecretPolicy
            metadata: { name: refresh-bench }
            spec:
              subjects: { namespaces: [{{Namespace}}] }
              rules:
                - backend: vault
                  paths: ["secret/bench/**"]
                - backend: vault-events
                  paths: ["secret/bench/**"]
                - backend: kv
                  paths: ["bench-*"]
              rotation: { interval: {{(int)interval.TotalSeconds}}s, onChange: none }
            """);
    }

    /// <summary>Admits a pod that mounts <paramref name="reference"/> as a file through the serve host and stores it as the API server would; returns its managed Secret's name.</summary>
    public async Task<string> AdmitAsync(string name, string reference)
    {
        var pod = PodBuilder.Injected(name).InNamespace(Namespace).WithAnnotation("configinjector.io/" + ValueKey, reference);
        var review = await Server.ReviewPodAsync(pod, Namespace);
        if (!review.Allowed)
            throw new InvalidOperationException($"the bench pod {name} was denied: {review.Message}");
        return Api.StoreAdmitted(pod, review, name, Namespace);
    }

    /// <summary>The Secret's value as the fake API server holds it now.</summary>
    public string? Value(string secret) =>
        Api.Get("secrets", Namespace, secret)?["data"]?[ValueKey]?.GetValue<string>() is { } data ? Encoding.UTF8.GetString(Convert.FromBase64String(data)) : null;

    /// <summary>As <c>kubectl annotate secret NAME configinjector.io/refresh=VALUE --overwrite</c> sends it: a merge patch of that one annotation.</summary>
    public Task<V1Secret> AnnotateAsync(string secret, string value) =>
        _kubectl.CoreV1.PatchNamespacedSecretAsync(new V1Patch(new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { ["configinjector.io/refresh"] = value } } }.ToJsonString(),
            V1Patch.PatchType.MergePatch), secret, Namespace);

    /// <summary><c>configinjector rotate --ref REF -n bench</c>, in process, as an operator with their own kubeconfig.</summary>
    public async Task RotateAsync(string reference)
    {
        var kubeconfig = Api.WriteKubeconfig(Directory.CreateDirectory(Path.Combine(Server.WorkDir, "operator")).FullName, token: "security-oncall");
        var (code, _, error) = await CliRunner.RunAsync("rotate", "--ref", reference, "-n", Namespace, "--kubeconfig", kubeconfig,
            "--config", Path.Combine(Server.WorkDir, "config", "injector.yaml"));
        if (code != 0)
            throw new InvalidOperationException($"configinjector rotate exited {code}: {error}");
    }

    /// <summary><c>POST /refresh</c> with the shared secret, as a CI job or an Event Grid subscription sends it.</summary>
    public async Task PostRefreshAsync(string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/refresh") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", SharedSecret);
        using var response = await Server.Client.SendAsync(request);
        var answer = await response.Content.ReadAsStringAsync();
        // A body that made nothing due would measure polling under another name.
        if (!response.IsSuccessStatusCode || JsonNode.Parse(answer)?["secretsMadeDue"]?.GetValue<int>() is not > 0)
            throw new InvalidOperationException($"POST /refresh answered {(int)response.StatusCode}: {answer}");
    }

    /// <summary>
    /// Key Vault's SecretNewVersionCreated as Event Grid delivers it (an array in the Event Grid schema, the documented
    /// sample), its <c>Id</c> the new version's URL on this Key Vault.
    /// </summary>
    public string EventGridDelivery(string secretName, string version) => EventDeliveries.KeyVaultDeliveryAt(KeyVault.Address, "kv-bench", secretName, version);

    public static async Task UntilAsync(Func<bool> condition, string what, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"timed out waiting for {what}");
            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _kubectl.Dispose();
        await Server.DisposeAsync();
        await KeyVault.DisposeAsync();
        await Vault.DisposeAsync();
        await Api.DisposeAsync();
    }
}
