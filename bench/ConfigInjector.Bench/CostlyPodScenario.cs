using System.Diagnostics;
using System.Globalization;
using System.Text;
using ConfigInjector.TestSupport.Builders;

namespace ConfigInjector.Bench;

/// <summary>
/// Pods whose annotations stay within Kubernetes' limits but ask for composed values that are expensive to build
/// (issue 18, finding 1), posted one at a time through the real host: CPU and bytes allocated per admission, the figures
/// the budget (250 ms of CPU, 64 MiB) is about. In-process, so the client's share (building and sending the body) is in
/// the figures too: they are an upper bound for the webhook alone.
/// </summary>
internal static class CostlyPodScenario
{
    /// <summary>Paths written into the run's copy of the dev secrets file (the example policy lets "default" read app/**).</summary>
    private static string BigPaths()
    {
        var text = new StringBuilder("\n# bench: paths for costly pods\n");
        // 200 keys of 400 characters: every format renders it over the 64 KiB limit of one file.
        text.Append("app/big:\n");
        for (var i = 0; i < 200; i++)
            text.Append(CultureInfo.InvariantCulture, $"  k{i:D3}: {new string('v', 400)}\n");
        // About 200 KiB in one path, as in the finding's serve run.
        text.Append("app/huge:\n");
        for (var i = 0; i < 500; i++)
            text.Append(CultureInfo.InvariantCulture, $"  k{i:D3}: {new string('h', 400)}\n");
        // One value over 64 KiB, for templates.
        text.Append(CultureInfo.InvariantCulture, $"app/bigvalue:\n  v: {new string('"', 70_000).Replace("\"", "q", StringComparison.Ordinal)}\n");
        // One value of quotes that '| json' doubles past the limit.
        text.Append(CultureInfo.InvariantCulture, $"app/quotes:\n  v: '{new string('"', 40_000)}'\n");
        // 5,000 keys: a ref to a missing key lists the keys the pod may read.
        text.Append("app/wide:\n");
        for (var i = 0; i < 5_000; i++)
            text.Append(CultureInfo.InvariantCulture, $"  key{i}: x\n");
        return text.ToString();
    }

    public static async Task<string> RunAsync(int samples)
    {
        var workDir = WorkDirectory.WithExamples();
        await File.AppendAllTextAsync(Path.Combine(workDir, "examples", "dev-secrets.yaml"), BigPaths());
        await using var host = await BenchHost.StartAsync(workDir, 1);
        var cases = new (string Name, string Body)[]
        {
            ("example pod (baseline)", Review(PodBuilder.Injected().WithAnnotation("configinjector.io/secret.DB_USER", "dev:app/db#user"))),
            ("2,700 file-from json over app/big (>64 KiB)", Review(Repeat(2_700, (p, i) => p.WithAnnotation($"configinjector.io/file-from.f{i}", "dev:app/big").WithAnnotation($"configinjector.io/file-format.f{i}", "json")))),
            ("  the same, dry-run", Review(Repeat(2_700, (p, i) => p.WithAnnotation($"configinjector.io/file-from.f{i}", "dev:app/big").WithAnnotation($"configinjector.io/file-format.f{i}", "json")), dryRun: true)),
            ("1,500 file-from yaml over app/huge (200 KiB)", Review(Repeat(1_500, (p, i) => p.WithAnnotation($"configinjector.io/file-from.f{i}", "dev:app/huge").WithAnnotation($"configinjector.io/file-format.f{i}", "yaml")))),
            ("3,500 template ${ref|json} over 70 KB", Review(Repeat(3_500, (p, i) => p.WithAnnotation($"configinjector.io/template.T{i}", "${dev:app/bigvalue#v|json}")))),
            ("3,500 template ${ref|json} over 40 KB of quotes", Review(Repeat(3_500, (p, i) => p.WithAnnotation($"configinjector.io/template.T{i}", $"{i}${{dev:app/quotes#v|json}}")))),
            ("2,000 file-template of 4 refs, 40 KB each", Review(Repeat(2_000, (p, i) => p.WithAnnotation($"configinjector.io/file-template.t{i}", $"{i}${{dev:app/quotes#v}}${{dev:app/quotes#v|trim}}${{dev:app/quotes#v|base64}}")))),
            ("500 missing keys of a 5,000-key path", Review(Repeat(500, (p, i) => p.WithAnnotation($"configinjector.io/secret.V{i}", $"dev:app/wide#nokey{i}")))),
        };
        var lines = new List<string>();
        foreach (var (name, body) in cases)
        {
            if (samples > 1)
                await HostileScenario.PostAsync(host.Client, body);
            var cpu = new List<double>();
            var allocated = new List<double>();
            var wall = new List<double>();
            for (var i = 0; i < samples; i++)
            {
                var (cpuMs, bytes, ms) = await MeasureAsync(host.Client, body);
                cpu.Add(cpuMs);
                allocated.Add(bytes / 1024.0 / 1024.0);
                wall.Add(ms);
            }
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"{name,-48} {body.Length / 1024.0,6:F0} KiB {Stats.Median(cpu),9:F1} ms {Stats.Median(allocated),9:F1} MiB {Stats.Median(wall),9:F1} ms"));
        }
        Directory.Delete(workDir, true);
        return $"""
            == costly pods, one at a time ({samples} samples, after 1 warm-up when more than one; budget per admission: 250 ms CPU, 64 MiB allocated)
            pod                                              body size   CPU (median) allocated    wall
            {string.Join("\n", lines)}

            """;
    }

    private static PodBuilder Repeat(int count, Func<PodBuilder, int, PodBuilder> add)
    {
        var pod = PodBuilder.Injected();
        for (var i = 0; i < count; i++)
            pod = add(pod, i);
        return pod;
    }

    private static string Review(PodBuilder pod, bool dryRun = false) => AdmissionReviewBuilder.ForPod(pod, dryRun: dryRun);

    private static async Task<(double CpuMs, long Bytes, double WallMs)> MeasureAsync(HttpClient client, string body)
    {
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpuBefore = process.TotalProcessorTime;
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var wall = await HostileScenario.PostAsync(client, body);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        process.Refresh();
        return ((process.TotalProcessorTime - cpuBefore).TotalMilliseconds, allocated, wall);
    }
}
