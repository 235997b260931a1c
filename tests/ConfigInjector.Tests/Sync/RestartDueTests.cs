using ConfigInjector.Core.Annotations;
using ConfigInjector.TestSupport.Fakes;
using k8s.Models;

namespace ConfigInjector.Tests.Sync;

/// <summary>
/// What the worker checks right before a recorded restart, on a fake clock against the fake API server: the workload
/// must really control a pod that reads the Secret (uid and selector, through its ReplicaSet) and that pod must be
/// older than the change. A pod's own ownerReferences are only its claim.
/// </summary>
public sealed class RestartDueTests : IAsyncLifetime
{
    private const string SecretName = "configinjector-payments-5d8f7c-1";
    private SyncHarness _sync = null!;

    public async Task InitializeAsync()
    {
        _sync = await SyncHarness.StartAsync();
        _sync.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "cluster-only-password-v2" });
        _sync.Policies.Allow("shop", "shop", null, "secret/shop/**");
    }

    public async Task DisposeAsync() => await _sync.DisposeAsync();

    public static TheoryData<string, bool> Claims => new()
    {
        { "its own pod", true },
        { "a pod naming the ReplicaSet with another uid", false },
        { "a pod naming the right uid with labels the selector does not match", false },
    };

    [Theory]
    [MemberData(nameof(Claims))]
    public async Task Only_a_pod_the_deployment_really_controls_gets_it_restarted(string claim, bool restarted)
    {
        var replicaSet = _sync.Api.AddDeployment("shop", "payments");
        var claimed = claim.Contains("another uid", StringComparison.Ordinal) ? (replicaSet.Name, Uid: Guid.NewGuid().ToString()) : replicaSet;
        var labels = claim.Contains("labels", StringComparison.Ordinal) ? new Dictionary<string, string> { ["app"] = "tenant-tool" } : KubeApiFakeExtensions.PodLabels(replicaSet);
        // Admission names the Secret's owner after the pod's claim, as it does for every pod.
        var secret = AddSecretOwnedBy(claimed);
        AddPod("tenant-0", claimed, labels, _sync.Time.GetUtcNow() - TimeSpan.FromHours(1));

        await RotateAndPumpAsync(secret);

        Assert.Equal(restarted, _sync.Api.RestartedAt("shop", "payments") is not null);
        Assert.Null(_sync.RestartDue("shop", SecretName));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_workload_whose_pods_were_all_replaced_since_the_change_is_not_restarted_again(bool replaced)
    {
        var replicaSet = _sync.Api.AddDeployment("shop", "payments");
        var secret = AddSecretOwnedBy(replicaSet);
        AddPod("payments-old", replicaSet, KubeApiFakeExtensions.PodLabels(replicaSet), _sync.Time.GetUtcNow() - TimeSpan.FromHours(1));

        await _sync.Pass().RunAsync([secret], CancellationToken.None);
        _sync.Time.Advance(TimeSpan.FromMinutes(2));
        if (replaced)
        {
            // Someone rolled it meanwhile (an image update): its pods were admitted after the Secret changed.
            _sync.Api.Delete("pods", "shop", "payments-old");
            AddPod("payments-new", replicaSet, KubeApiFakeExtensions.PodLabels(replicaSet), _sync.Time.GetUtcNow());
        }
        await _sync.Restarts.ResolveAsync(CancellationToken.None);
        await _sync.Restarter.PumpAsync(CancellationToken.None);

        Assert.Equal(!replaced, _sync.Api.RestartedAt("shop", "payments") is not null);
        Assert.Null(_sync.RestartDue("shop", SecretName));
    }

    private V1Secret AddSecretOwnedBy((string Name, string Uid) replicaSet) =>
        _sync.AddManaged("shop", SecretName, "default", "DB_PASSWORD", "vault-prod:secret/shop/db#password", "cluster-only-password-v1",
            owner: new V1OwnerReference { ApiVersion = "apps/v1", Kind = "ReplicaSet", Name = replicaSet.Name, Uid = replicaSet.Uid, Controller = true }, onChange: RotationMode.Restart);

    private async Task RotateAndPumpAsync(V1Secret secret)
    {
        await _sync.Pass().RunAsync([secret], CancellationToken.None);
        _sync.Time.Advance(TimeSpan.FromSeconds(5));
        await _sync.Restarts.ResolveAsync(CancellationToken.None);
        await _sync.Restarter.PumpAsync(CancellationToken.None);
    }

    private void AddPod(string name, (string Name, string Uid) replicaSet, Dictionary<string, string> labels, DateTimeOffset created) =>
        _sync.AddPod(name, replicaSet, labels, created, SecretName);
}
