using System.Globalization;
using System.Text.Json.Nodes;
using ConfigInjector.TestSupport.Fakes;

namespace ConfigInjector.Bench;

/// <summary>
/// Admissions against the Vault fake with a warm cache (5m TTL, pre-filled) vs a cold one (1ms TTL: every
/// admission goes to Vault), alternating rounds; then 1,000 pods sharing 50 refs on a fresh host, counting Vault reads.
/// </summary>
internal static class VaultCacheScenario
{
    private const int UniqueRefs = 50;

    public static async Task<string> RunAsync(BenchOptions options)
    {
        await using var vault = await VaultFake.StartAsync();
        vault.EnableKv("secret", 2);
        for (var i = 0; i < UniqueRefs; i++)
            vault.Put($"secret/bench/app-{i}", new Dictionary<string, string> { ["password"] = $"bench-secret-{i}", ["user"] = $"user-{i}" });

        await using var cold = await BenchHost.StartAsync(Prepare(vault, "1ms"), options.Concurrency);
        await using var warm = await BenchHost.StartAsync(Prepare(vault, "5m"), options.Concurrency);
        var requests = Math.Max(options.Requests / 4, 200);
        await cold.RunAsync("/mutate-pods", options.Warmup / 4, options.Concurrency, Review);
        await warm.RunAsync("/mutate-pods", options.Warmup / 4, options.Concurrency, Review);

        var coldRounds = new List<Round>();
        var warmRounds = new List<Round>();
        var coldCalls = new List<double>();
        var warmCalls = new List<double>();
        for (var round = 0; round < options.Rounds; round++)
        {
            var before = vault.Count("GET secret/data/");
            coldRounds.Add(await cold.RunAsync("/mutate-pods", requests, options.Concurrency, Review));
            var between = vault.Count("GET secret/data/");
            warmRounds.Add(await warm.RunAsync("/mutate-pods", requests, options.Concurrency, Review));
            coldCalls.Add((between - before) / (double)requests);
            warmCalls.Add((vault.Count("GET secret/data/") - between) / (double)requests);
        }

        // 1,000 pods, 8 at a time, on a host whose cache starts empty: each pod asks for 3 of the 50 refs.
        await using var fresh = await BenchHost.StartAsync(Prepare(vault, "5m"), options.Concurrency);
        var start = vault.Count("GET secret/data/");
        await fresh.RunAsync("/mutate-pods", 1000, options.Concurrency, Review);
        var sharedCalls = vault.Count("GET secret/data/") - start;

        var c = Stats.Summary(coldRounds);
        var w = Stats.Summary(warmRounds);
        return string.Create(CultureInfo.InvariantCulture, $"""
            == Vault fake: warm vs cold cache ({options.Rounds} alternating rounds x {requests} admissions, concurrency {options.Concurrency}; each pod 3 refs of {UniqueRefs})
            medians over rounds       median ms    p99 ms  admissions/s   Vault reads/admission
            cold cache (ttl 1ms)      {c.Median,9:F3} {c.P99,9:F3} {c.Rps,13:F0} {Stats.Median(coldCalls),23:F2}
            warm cache (ttl 5m)       {w.Median,9:F3} {w.P99,9:F3} {w.Rps,13:F0} {Stats.Median(warmCalls),23:F2}
            ratio warm/cold           {w.Median / c.Median,9:F2} {w.P99 / c.P99,9:F2} {w.Rps / c.Rps,13:F2}
            1,000 pods sharing {UniqueRefs} refs on an empty cache: {sharedCalls} Vault reads (ideal {UniqueRefs})

            """);
    }

    private static string Review(int i)
    {
        var annotations = new JsonObject { ["configinjector.io/inject"] = "true" };
        for (var k = 0; k < 3; k++)
            annotations[$"configinjector.io/secret.S{k}"] = $"vault-bench:secret/bench/app-{(i + k * 17) % UniqueRefs}#password";
        var pod = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = new JsonObject { ["generateName"] = $"bench-{i % 20}-", ["namespace"] = "default", ["annotations"] = annotations },
            ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "app", ["image"] = "app:1" }) },
        };
        return new JsonObject
        {
            ["apiVersion"] = "admission.k8s.io/v1",
            ["kind"] = "AdmissionReview",
            ["request"] = new JsonObject
            {
                ["uid"] = $"uid-{i}",
                ["kind"] = new JsonObject { ["group"] = "", ["version"] = "v1", ["kind"] = "Pod" },
                ["namespace"] = "default",
                ["operation"] = "CREATE",
                ["object"] = pod,
            },
        }.ToJsonString();
    }

    private static string Prepare(VaultFake vault, string ttl)
    {
        var workDir = WorkDirectory.WithExamples();
        Directory.CreateDirectory(Path.Combine(workDir, "config"));
        File.WriteAllText(Path.Combine(workDir, "config", "token"), VaultFake.RootToken);
        File.WriteAllText(Path.Combine(workDir, "config", "injector.yaml"), $$"""
            backends:
              - name: vault-bench
                type: vault
                address: {{vault.Address}}
                caFile: {{vault.CaFile}}
                auth: { token: { file: token } }
            cache: { ttl: {{ttl}} }
            """);
        File.WriteAllText(Path.Combine(workDir, "examples", "policies", "bench.yaml"), """
            apiVersion: configinjector.io/v1alpha1
            kind: SecretPolicy
            metadata: { name: bench }
            spec:
              subjects: { namespaces: [default] }
              rules:
                - backend: vault-bench
                  paths: ["secret/bench/*"]
            """);
        return workDir;
    }
}
