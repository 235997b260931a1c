using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using ConfigInjector.Backends;
using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Planning;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.Report;
using ConfigInjector.Kubernetes;
using ConfigInjector.Observability;
using ConfigInjector.Report;
using ConfigInjector.TestSupport.Fakes;
using k8s;
using Prometheus;

namespace ConfigInjector.Bench;

/// <summary>
/// The blast-radius report over 10,000 pods (500 Deployments in 20 namespaces, 500 refs, one managed Secret per
/// Deployment), against the fake kube-apiserver and the Vault fake. Baseline in the same run: listing the pods alone,
/// in the same 500-item pages (the least any report has to do).
/// </summary>
internal static class ReportScenario
{
    private const int Pods = 10_000;
    private const int Deployments = 500;

    public static async Task<string> RunAsync(BenchOptions options)
    {
        await using var api = await KubeApiFake.StartAsync();
        await using var vault = await VaultFake.StartAsync();
        vault.EnableKv("secret", 2);
        for (var d = 0; d < Deployments; d++)
            vault.Put($"secret/app/ref-{d}", new Dictionary<string, string> { ["value"] = $"bench-value-{d}-v1" });
        for (var d = 0; d < Deployments; d++)
            vault.Put($"secret/app/ref-{d}", new Dictionary<string, string> { ["value"] = $"bench-value-{d}-v2" });
        var key = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        for (var d = 0; d < Deployments; d++)
        {
            var ns = $"team-{d % 20}";
            var (rsName, rsUid) = api.AddDeployment(ns, $"app-{d}");
            var secretName = $"configinjector-app-{d}";
            var secret = ManagedSecretFactory.Create(new ManagedSecretSpec(secretName, ns, new Dictionary<string, string> { ["TOKEN"] = "x" },
                new Dictionary<string, KeySource> { ["TOKEN"] = new($"vault-bench:secret/app/ref-{d}#value", "2") }, RotationSettings.Default, null, "default"), key);
            api.Put("secrets", JsonNode.Parse(KubernetesJson.Serialize(secret))!.AsObject());
            for (var p = 0; p < Pods / Deployments; p++)
            {
                // One pod in five still runs version 1 through its env.
                var version = p % 5 == 0 ? "1" : "2";
                api.Put("pods", new JsonObject
                {
                    ["apiVersion"] = "v1",
                    ["kind"] = "Pod",
                    ["metadata"] = new JsonObject
                    {
                        ["name"] = $"app-{d}-{p}",
                        ["namespace"] = ns,
                        ["annotations"] = new JsonObject
                        {
                            [AnnotationKeys.Injected] = $"vault-bench:secret/app/ref-{d}#value@{version}",
                            [AnnotationKeys.ManagedSecret] = secretName,
                        },
                        ["ownerReferences"] = new JsonArray(new JsonObject { ["apiVersion"] = "apps/v1", ["kind"] = "ReplicaSet", ["name"] = rsName, ["uid"] = rsUid, ["controller"] = true }),
                    },
                    ["spec"] = JsonNode.Parse("""{"containers":[{"name":"app","image":"app:1","env":[{"name":"TOKEN","valueFrom":{"secretKeyRef":{"name":"SECRET","key":"TOKEN"}}}]}]}""".Replace("SECRET", secretName, StringComparison.Ordinal)),
                });
            }
        }

        var client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = api.Address.ToString() });
        var backends = await BenchVault.BackendsAsync(vault);
        var metrics = new InjectorMetrics(Metrics.NewCustomRegistry());
        var service = new ReportService(new KubernetesReportCluster(client, "config-injector"), new SecretReader(backends, metrics, TimeSpan.FromSeconds(30)), new HashSet<string> { "vault-bench" }, new ConfigInjector.ManagedSecrets.StaticSigningKey(new byte[32]), TimeProvider.System);
        var pattern = RefPattern.Parse("vault-bench:secret/app/**").Value!;
        IReadOnlyList<SecretPolicy> policies = [new SecretPolicy("bench", new PolicySubjects(["team-*"], null), [new PolicyRule("vault-bench", ["secret/app/*"], null)], RotationSettings.Default, BackendErrorMode.Deny)];

        async Task<double> ListPods()
        {
            var started = Stopwatch.GetTimestamp();
            string? token = null;
            var count = 0;
            do
            {
                var page = await client.CoreV1.ListPodForAllNamespacesAsync(limit: 500, continueParameter: token);
                count += page.Items.Count;
                token = page.Metadata.ContinueProperty;
            }
            while (!string.IsNullOrEmpty(token));
            return count == Pods ? Stopwatch.GetElapsedTime(started).TotalSeconds : throw new InvalidOperationException($"{count} pods listed");
        }

        BlastRadiusReport last = null!;
        async Task<(double Seconds, long AllocatedMiB)> Report()
        {
            var allocated = GC.GetTotalAllocatedBytes();
            var started = Stopwatch.GetTimestamp();
            last = await service.BuildAsync(pattern, null, policies, CancellationToken.None);
            return (Stopwatch.GetElapsedTime(started).TotalSeconds, (GC.GetTotalAllocatedBytes() - allocated) / (1024 * 1024));
        }

        await ListPods();
        await Report(); // warm-up: JIT, TLS and connection pools
        var lists = new List<double>();
        var reports = new List<(double Seconds, long AllocatedMiB)>();
        for (var round = 0; round < options.Rounds; round++)
        {
            lists.Add(await ListPods());
            reports.Add(await Report());
        }
        var snapshotBuild = await PureBuildSecondsAsync(client, pattern, policies, options.Rounds);
        var list = Stats.Median(lists);
        var report = Stats.Median([.. reports.Select(r => r.Seconds)]);
        return string.Create(CultureInfo.InvariantCulture, $"""
            == blast-radius report: {Pods:N0} pods, {Deployments} Deployments in 20 namespaces, {Deployments} refs (fake kube-apiserver + Vault fake over HTTPS, same process), median of {options.Rounds} rounds
                                                        wall s   allocated MiB
            list the pods alone (baseline)            {list,8:F2}
            report end to end (lists + {Deployments} Vault reads) {report,8:F2} {Stats.Median([.. reports.Select(r => (double)r.AllocatedMiB)]),15:F0}
            building the report from the snapshot     {snapshotBuild,8:F3}
            ratio report/baseline {report / list:F2}; result: {last.Summary.Pods:N0} pods, {last.Summary.PodsStale:N0} on an older version, {last.Rows.Count:N0} rows

            """);
    }

    /// <summary>The pure part alone: <see cref="BlastRadius.Build"/> over the listed snapshot.</summary>
    private static async Task<double> PureBuildSecondsAsync(IKubernetes client, RefPattern pattern, IReadOnlyList<SecretPolicy> policies, int rounds)
    {
        var objects = await new KubernetesReportCluster(client, "config-injector").ReadAsync(null, CancellationToken.None);
        var latest = BlastRadius.Locations(pattern, objects.Pods).ToDictionary(l => l, _ => "2");
        var snapshot = new ClusterSnapshot(objects.Pods, objects.ManagedSecrets, objects.ControllersByUid, objects.RollingOut, policies, latest);
        BlastRadius.Build(pattern, snapshot);
        var times = new List<double>();
        for (var i = 0; i < rounds; i++)
        {
            var started = Stopwatch.GetTimestamp();
            BlastRadius.Build(pattern, snapshot);
            times.Add(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
        return Stats.Median(times);
    }
}
