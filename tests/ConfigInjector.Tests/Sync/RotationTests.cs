using ConfigInjector.Sync;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Fakes;
using Microsoft.Extensions.DependencyInjection;

namespace ConfigInjector.Tests.Sync;

/// <summary>End to end against the fake kube-apiserver and the Vault fake: admission writes the Secret, the worker rotates it.</summary>
public sealed class RotationTests : IAsyncLifetime
{
    private ClusterEnvironment _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ClusterEnvironment.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_rotated_env_value_updates_the_secret_and_restarts_the_deployment()
    {
        var server = await _cluster.StartReplicaAsync();
        var rs = _cluster.Api.AddDeployment("shop", "checkout");
        var pod = ClusterEnvironment.PodOf(rs).WithAnnotation("configinjector.io/secret.DB_PASSWORD", "vault-prod:secret/shop/db#password");

        var review = await server.ReviewPodAsync(pod, "shop");

        Assert.True(review.Allowed, review.Message);
        var name = _cluster.StoreAdmitted(pod, review, "checkout-1");
        var secret = _cluster.Api.Get("secrets", "shop", name);
        Assert.NotNull(secret);
        Assert.Equal("config-injector", secret["metadata"]!["labels"]!["app.kubernetes.io/managed-by"]!.GetValue<string>());
        Assert.Equal(rs.Uid, secret["metadata"]!["ownerReferences"]![0]!["uid"]!.GetValue<string>());
        Assert.Equal("cluster-only-password-v1", ClusterEnvironment.SecretValue(secret, "DB_PASSWORD"));
        Assert.DoesNotContain("cluster-only-password", review.Body, StringComparison.Ordinal);

        _cluster.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "cluster-only-password-v2", ["user"] = "shop" });

        await Eventually.TrueAsync(() => ClusterEnvironment.SecretValue(_cluster.Api.Get("secrets", "shop", name), "DB_PASSWORD") == "cluster-only-password-v2", "the Secret to be rotated");
        await Eventually.TrueAsync(() => _cluster.Api.RestartedAt("shop", "checkout") is not null, "the Deployment to be restarted");
        Assert.Contains("\"version\":\"2\"", _cluster.Api.Get("secrets", "shop", name)!["metadata"]!["annotations"]!["configinjector.io/sources"]!.GetValue<string>(), StringComparison.Ordinal);
        var rotated = Assert.Single(_cluster.Api.Events("Rotated"));
        Assert.DoesNotContain("cluster-only-password", rotated.ToJsonString(), StringComparison.Ordinal);
        Assert.Contains("DB_PASSWORD <- vault-prod:secret/shop/db#password@2", rotated["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_only_consumer_is_updated_but_not_restarted()
    {
        var server = await _cluster.StartReplicaAsync();
        var rs = _cluster.Api.AddDeployment("shop", "proxy");
        var pod = ClusterEnvironment.PodOf(rs).WithAnnotation("configinjector.io/file.ca.crt", "vault-prod:secret/shop/tls#ca");
        var review = await server.ReviewPodAsync(pod, "shop");
        var name = (string)PatchOracle.Apply(pod.ToJson(), review.Patch!)["metadata"]!["annotations"]!["configinjector.io/managed-secret"]!;

        _cluster.Vault.Put("secret/shop/tls", new Dictionary<string, string> { ["ca"] = "cluster-only-ca-v2" });

        await Eventually.TrueAsync(() => ClusterEnvironment.SecretValue(_cluster.Api.Get("secrets", "shop", name), "file.ca.crt") == "cluster-only-ca-v2", "the Secret to be rotated");
        // The Event follows the write: wait for it, then there is exactly one.
        await Eventually.TrueAsync(() => _cluster.Api.Events("Rotated").Count > 0, "the Rotated Event");
        // That nothing is restarted for a file consumer is shown without waiting: Sync/RestartDecisionTests.
        Assert.Single(_cluster.Api.Events("Rotated"));
    }

    [Fact]
    public async Task Restarts_are_paced_by_max_concurrent_restarts()
    {
        var server = await _cluster.StartReplicaAsync(maxConcurrentRestarts: 5);
        var names = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            var rs = _cluster.Api.AddDeployment("shop", $"svc-{i}");
            await _cluster.AdmitAsync(server, ClusterEnvironment.PodOf(rs).WithAnnotation("configinjector.io/secret.DB_PASSWORD", "vault-prod:secret/shop/db#password"), $"svc-{i}-1");
            names.Add($"svc-{i}");
        }

        _cluster.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "cluster-only-password-v2", ["user"] = "shop" });

        var completed = new HashSet<string>();
        var maxInFlight = 0;
        await Eventually.TrueAsync(() =>
        {
            var inFlight = names.Where(n => _cluster.Api.RestartedAt("shop", n) is not null && !completed.Contains(n)).ToList();
            maxInFlight = Math.Max(maxInFlight, inFlight.Count);
            // The deployment controller finishes one rollout at a time.
            if (inFlight.Count > 0)
            {
                _cluster.Api.CompleteRollout("shop", inFlight[0]);
                completed.Add(inFlight[0]);
            }
            return completed.Count == 20;
        }, "all 20 workloads to be restarted", TimeSpan.FromSeconds(40));

        Assert.InRange(maxInFlight, 1, 5);
        Assert.Equal(5, maxInFlight);
        Assert.Equal(0, server.Services.GetRequiredService<WorkloadRestarter>().Pending);
    }

    [Fact]
    public async Task A_failing_backend_keeps_the_last_value_and_says_so()
    {
        var server = await _cluster.StartReplicaAsync();
        var rs = _cluster.Api.AddDeployment("shop", "billing");
        var pod = ClusterEnvironment.PodOf(rs).WithAnnotation("configinjector.io/secret.DB_PASSWORD", "vault-prod:secret/shop/db#password");
        var review = await server.ReviewPodAsync(pod, "shop");
        var name = (string)PatchOracle.Apply(pod.ToJson(), review.Patch!)["metadata"]!["annotations"]!["configinjector.io/managed-secret"]!;

        _cluster.Vault.Sealed = true;

        await Eventually.TrueAsync(() => _cluster.Api.Events("NotRefreshed").Count > 0, "a BackendError event");
        var secret = _cluster.Api.Get("secrets", "shop", name);
        Assert.Equal("cluster-only-password-v1", ClusterEnvironment.SecretValue(secret, "DB_PASSWORD"));
        Assert.Contains("Vault is sealed", _cluster.Api.Events("NotRefreshed")[0]["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("configinjector_rotations_total{result=\"error\"}", await server.Client.GetStringAsync("/metrics"), StringComparison.Ordinal);

        _cluster.Vault.Sealed = false;
        _cluster.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "cluster-only-password-v3", ["user"] = "shop" });
        await Eventually.TrueAsync(() => ClusterEnvironment.SecretValue(_cluster.Api.Get("secrets", "shop", name), "DB_PASSWORD") == "cluster-only-password-v3", "recovery after the backend returns");
    }

    [Fact]
    public async Task A_conflict_on_update_is_retried_from_a_fresh_read()
    {
        var server = await _cluster.StartReplicaAsync();
        var rs = _cluster.Api.AddDeployment("shop", "orders");
        var pod = ClusterEnvironment.PodOf(rs).WithAnnotation("configinjector.io/secret.DB_PASSWORD", "vault-prod:secret/shop/db#password");
        var review = await server.ReviewPodAsync(pod, "shop");
        var name = (string)PatchOracle.Apply(pod.ToJson(), review.Patch!)["metadata"]!["annotations"]!["configinjector.io/managed-secret"]!;

        _cluster.Api.FailNext("PUT", "secrets", 409, reason: "Conflict");
        _cluster.Api.FailNext("PUT", "secrets", 500, count: 1);
        _cluster.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "cluster-only-password-v2", ["user"] = "shop" });

        await Eventually.TrueAsync(() => ClusterEnvironment.SecretValue(_cluster.Api.Get("secrets", "shop", name), "DB_PASSWORD") == "cluster-only-password-v2", "the rotation to land despite a 409 and a 500");
        Assert.Equal(0, _cluster.Api.PendingFaults);
    }

    [Fact]
    public async Task A_dropped_watch_and_a_410_lead_to_a_relist_that_sees_new_secrets()
    {
        var server = await _cluster.StartReplicaAsync();
        var worker = server.Services.GetRequiredService<SyncWorker>();
        await Eventually.TrueAsync(() => worker.IsLeader, "leadership");
        await Eventually.TrueAsync(() => _cluster.Api.Requests.Any(r => r.StartsWith("GET secrets /", StringComparison.Ordinal) && r.EndsWith(" watch", StringComparison.Ordinal)), "the informer's watch");
        var listsBefore = Lists();

        _cluster.Api.Compact();
        await Eventually.TrueAsync(() => _cluster.Api.GoneAnswers > 0, "a watch answered with 410 Gone");
        await Eventually.TrueAsync(() => Lists() > listsBefore, "a relist after the 410");
        var rs = _cluster.Api.AddDeployment("shop", "late");
        var pod = ClusterEnvironment.PodOf(rs).WithAnnotation("configinjector.io/secret.DB_PASSWORD", "vault-prod:secret/shop/db#password");
        var review = await server.ReviewPodAsync(pod, "shop");
        var name = (string)PatchOracle.Apply(pod.ToJson(), review.Patch!)["metadata"]!["annotations"]!["configinjector.io/managed-secret"]!;
        _cluster.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "cluster-only-password-v2", ["user"] = "shop" });

        await Eventually.TrueAsync(() => ClusterEnvironment.SecretValue(_cluster.Api.Get("secrets", "shop", name), "DB_PASSWORD") == "cluster-only-password-v2", "rotation of a Secret created after the relist");
    }

    private int Lists() => _cluster.Api.Requests.Count(r => r.StartsWith("GET secrets /", StringComparison.Ordinal) && !r.EndsWith(" watch", StringComparison.Ordinal));
}
