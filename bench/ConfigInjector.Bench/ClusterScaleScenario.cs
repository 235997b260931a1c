using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using ConfigInjector.Hosting;
using ConfigInjector.TestSupport.Fakes;
using ConfigInjector.Tls;

namespace ConfigInjector.Bench;

/// <summary>
/// Memory that does not grow with the cluster, as a platform team sees it: two <c>configinjector serve</c> processes in
/// cluster mode against the fake kube-apiserver, admitting one pod of each of N ReplicaSets (N managed Secrets), half
/// through each replica as a Service would spread them. The RSS of the leader and of the follower before, and once
/// both watches have taken every Secret in; the baseline is each process's own RSS before the load, in the same run.
/// </summary>
internal static class ClusterScaleScenario
{
    private const string Namespace = "config-injector";

    public static async Task<string> RunAsync(BenchOptions options)
    {
        var count = options.Secrets;
        await using var api = await KubeApiFake.StartAsync();
        var workDir = WorkDirectory.WithExamples();
        var certs = Path.Combine(workDir, DevCertificate.Folder);
        DevCertificate.EnsureExists(certs, TimeProvider.System);
        var trust = CustomCaTrust.Validator(CustomCaTrust.LoadBundle(Path.Combine(certs, "ca.crt")));
        var kubeconfig = api.WriteKubeconfig(workDir);
        var product = options.Binary is { } binary ? Path.GetFullPath(binary) : Path.Combine(WorkDirectory.FindRepo(), "src", "ConfigInjector", "bin", "Release", "net10.0", "configinjector");
        var review = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(workDir, "examples", "admission-review.json")))!.AsObject();

        var replicas = new List<(string Name, int Port, Process Process)>();
        try
        {
            foreach (var name in new[] { "replica-a", "replica-b" })
            {
                var port = ProcessScenario.FreePort();
                var started = Stopwatch.GetTimestamp();
                var process = ProcessScenario.Start(product,
                    $"serve --urls https://127.0.0.1:{port} --kubeconfig {kubeconfig} --policies examples/policies", workDir,
                    ServeEnvironment(name));
                replicas.Add((name, port, process));
                await ProcessScenario.WaitReadyAsync(port, trust, started, process);
            }
            var leader = await LeaderAsync(api);
            await Task.Delay(TimeSpan.FromSeconds(3));
            var before = replicas.ToDictionary(r => r.Name, r => ProcessScenario.RssMiB(r.Process.Id));

            var clients = replicas.Select(r => ProcessScenario.Client(r.Port, trust, 16)).ToArray();
            var admitting = Stopwatch.StartNew();
            var next = -1;
            await Task.WhenAll(Enumerable.Range(0, 32).Select(async _ =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < count)
                    await ProcessScenario.PostAsync(clients[i % clients.Length], PodOfReplicaSet(review, i));
            }));
            var admitSeconds = admitting.Elapsed.TotalSeconds;
            foreach (var client in clients)
                client.Dispose();

            // Both watches take the Secrets in after the writes; the RSS settles when they have (and the GC with them).
            var peak = replicas.ToDictionary(r => r.Name, _ => 0.0);
            var last = new Dictionary<string, double>();
            for (var second = 0; second < 20; second++)
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
                foreach (var r in replicas)
                {
                    last[r.Name] = ProcessScenario.RssMiB(r.Process.Id);
                    peak[r.Name] = Math.Max(peak[r.Name], last[r.Name]);
                }
            }
            if (Environment.GetEnvironmentVariable("BENCH_HOLD_SECONDS") is { } hold)
            {
                Console.WriteLine(string.Join(" ", replicas.Select(r => $"{(r.Name == leader ? "leader" : "follower")}={r.Process.Id}")));
                await Task.Delay(TimeSpan.FromSeconds(int.Parse(hold, CultureInfo.InvariantCulture)));
            }
            var secrets = api.All("secrets", "default").Count;
            var rows = string.Join("\n", replicas.Select(r =>
            {
                var role = r.Name == leader ? "leader" : "follower";
                var growth = last[r.Name] - before[r.Name];
                return string.Create(CultureInfo.InvariantCulture,
                    $"{role,-10} {before[r.Name],12:F1} {last[r.Name],12:F1} {peak[r.Name],10:F1} {growth * 1024 * 1024 / count,16:F0}   {(role == "leader" ? "≤ 200" : "≤ 100")}");
            }));
            return string.Create(CultureInfo.InvariantCulture, $"""
                == cluster scale: {count:N0} pods of {count:N0} ReplicaSets admitted through 2 `serve` replicas in cluster mode (fake kube-apiserver, {Path.GetFileName(product)})
                admitted in {admitSeconds:F1} s ({count / admitSeconds:F0}/s, 32 at a time, half to each replica); managed Secrets in the fake: {secrets:N0}
                replica    RSS before   RSS after   RSS peak   per Secret (B)   goal (MiB)
                {rows}

                """);
        }
        finally
        {
            foreach (var (_, _, process) in replicas)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
                process.Dispose();
            }
            Directory.Delete(workDir, true);
        }
    }

    /// <summary>The replica's identity, and <see cref="ProcessScenario.BenchServeEnvironment"/>.</summary>
    private static Dictionary<string, string> ServeEnvironment(string name)
    {
        var environment = ProcessScenario.BenchServeEnvironment();
        environment["POD_NAMESPACE"] = Namespace;
        environment["POD_NAME"] = name;
        return environment;
    }

    private static async Task<string> LeaderAsync(KubeApiFake api)
    {
        var lease = ReleaseNames.Default.Lease;
        for (var attempt = 0; attempt < 300; attempt++)
        {
            if (api.Get("leases", Namespace, lease)?["spec"]?["holderIdentity"]?.GetValue<string>() is { Length: > 0 } holder)
                return holder;
            await Task.Delay(100);
        }
        throw new InvalidOperationException("no replica took the Lease within 30 s");
    }

    /// <summary>The example pod as the ReplicaSet controller of ReplicaSet <paramref name="i"/> sends it.</summary>
    private static string PodOfReplicaSet(JsonObject review, int i)
    {
        var copy = review.DeepClone().AsObject();
        copy["request"]!["uid"] = Guid.NewGuid().ToString();
        var metadata = copy["request"]!["object"]!["metadata"]!;
        metadata["generateName"] = $"web-{i}-7d9f8c6b5-";
        var owner = metadata["ownerReferences"]![0]!;
        owner["name"] = $"web-{i}-7d9f8c6b5";
        owner["uid"] = Guid.NewGuid().ToString();
        return copy.ToJsonString();
    }
}
