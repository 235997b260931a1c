using System.Text.Json.Nodes;
using ConfigInjector.Core.Annotations;
using ConfigInjector.Observability;
using ConfigInjector.Policies;
using ConfigInjector.Sync;
using ConfigInjector.TestSupport.Builders;
using k8s;
using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;

namespace ConfigInjector.Tests.Sync;

/// <summary>
/// <c>configinjector_pods_on_stale_version{namespace}</c>, kept by the leader's scan over the pods: a pod whose env
/// holds an older version than its managed Secret counts until it is gone; a file consumer never does.
/// </summary>
public sealed class StaleVersionGaugeTests : IAsyncLifetime
{
    private SyncHarness _sync = null!;

    public async Task InitializeAsync() => _sync = await SyncHarness.StartAsync();

    public async Task DisposeAsync() => await _sync.DisposeAsync();

    private void AddPod(string ns, string name, string secret, string version, bool asFile = false)
    {
        var pod = PodBuilder.Injected(name).InNamespace(ns).Build();
        pod.Metadata.Annotations[AnnotationKeys.Injected] = "vault-prod:secret/shop/db#password@" + version;
        pod.Metadata.Annotations[AnnotationKeys.ManagedSecret] = secret;
        if (asFile)
        {
            pod.Spec.Volumes = [new() { Name = "configinjector-files", Secret = new() { SecretName = secret, Items = [new() { Key = "file.pw", Path = "pw" }] } }];
        }
        else
        {
            pod.Spec.Containers[0].Env = [new() { Name = "DB_PASSWORD", ValueFrom = new() { SecretKeyRef = new() { Name = secret, Key = "DB_PASSWORD" } } }];
        }
        _sync.Api.Put("pods", JsonNode.Parse(KubernetesJson.Serialize(pod))!.AsObject());
    }

    [Fact]
    public async Task Counts_env_consumers_behind_their_secret_per_namespace()
    {
        var metrics = new InjectorMetrics(Metrics.NewCustomRegistry());
        var scanner = new MissedInjectionScanner(_sync.Cluster, new NoNamespaceOptIn(), metrics, NullLogger<MissedInjectionScanner>.Instance);
        var shop = _sync.AddManaged("shop", "configinjector-web", "default", "DB_PASSWORD", "vault-prod:secret/shop/db#password", "v2-value");
        var shopFiles = _sync.AddManaged("shop", "configinjector-files", "default", "file.pw", "vault-prod:secret/shop/db#password", "v2-value");
        var billing = _sync.AddManaged("billing", "configinjector-ledger", "default", "DB_PASSWORD", "vault-prod:secret/shop/db#password", "v2-value");
        // AddManaged records version 1: these pods were admitted at 0 (older) or 1 (current).
        AddPod("shop", "web-old-1", "configinjector-web", "0");
        AddPod("shop", "web-old-2", "configinjector-web", "0");
        AddPod("shop", "web-new", "configinjector-web", "1");
        AddPod("shop", "files", "configinjector-files", "0", asFile: true);
        AddPod("billing", "ledger-0", "configinjector-ledger", "1");

        await scanner.ScanAsync([shop, shopFiles, billing], CancellationToken.None);

        Assert.Equal(2, metrics.PodsOnStaleVersion.WithLabels("shop").Value);
        Assert.Equal(0, metrics.PodsOnStaleVersion.WithLabels("billing").Value);

        _sync.Api.Delete("pods", "shop", "web-old-1");
        _sync.Api.Delete("pods", "shop", "web-old-2");
        await scanner.ScanAsync([shop, shopFiles, billing], CancellationToken.None);

        Assert.Equal(0, metrics.PodsOnStaleVersion.WithLabels("shop").Value);
    }
}
