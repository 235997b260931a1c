using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using ConfigInjector.TestSupport.Builders;

namespace ConfigInjector.Bench;

/// <summary>
/// The reviews built to stall the webhook (tests/…/Admission/HostileInputTests), each posted one at a time, against
/// the ordinary example review in the same run: how long the worst input anyone can send keeps a request busy.
/// </summary>
internal static class HostileScenario
{
    private const int Samples = 15;

    public static async Task<string> RunAsync(BenchOptions options)
    {
        var workDir = WorkDirectory.WithExamples();
        var baseline = await File.ReadAllTextAsync(Path.Combine(workDir, "examples", "admission-review.json"));
        await using var host = await BenchHost.StartAsync(workDir, 1);
        var cases = new (string Name, string Body)[]
        {
            ("example review (baseline)", baseline),
            ("unknown key of 1,000,000 characters", Review(PodBuilder.Injected().WithAnnotation("configinjector.io/" + new string('q', 1_000_000), "x"))),
            ("30,000 secret.* annotations (1.2 MB)", Review(Repeat(PodBuilder.Injected(), 30_000, (p, i) => p.WithAnnotation($"configinjector.io/secret.V{i}", "dev:app/db#user")))),
            ("5,000 secret.* annotations, injected", Review(Repeat(PodBuilder.Injected(), 5_000, (p, i) => p.WithAnnotation($"configinjector.io/secret.V{i}", "dev:app/db#user")))),
            ("600 distinct refs", Review(Repeat(PodBuilder.Injected(), 600, (p, i) => p.WithAnnotation($"configinjector.io/secret.V{i}", $"dev:app/p{i}#k")))),
            ("100 env x 200 containers", Review(Repeat(Repeat(PodBuilder.Create().WithAnnotation("configinjector.io/inject", "true"), 200, (p, i) => p.WithContainer($"c{i}")), 100, (p, i) => p.WithAnnotation($"configinjector.io/secret.V{i}", "dev:app/db#user")))),
            ("containers: 20,000 names, 2,000 containers", Review(Repeat(PodBuilder.Injected().WithAnnotation("configinjector.io/secret.A", "dev:app/db#user").WithAnnotation("configinjector.io/containers", string.Join(",", Enumerable.Range(0, 20_000).Select(i => $"n{i}"))), 2_000, (p, i) => p.WithContainer($"c{i}")))),
            ("profiles: one name 30,000 times", Review(PodBuilder.Injected().WithAnnotation("configinjector.io/profiles", string.Join(",", Enumerable.Repeat("nosuch", 30_000))))),
        };
        var lines = new List<string>();
        double? baseMedian = null;
        foreach (var (name, body) in cases)
        {
            for (var warm = 0; warm < 2; warm++)
                await PostAsync(host.Client, body);
            var latencies = new List<double>();
            for (var i = 0; i < Samples; i++)
                latencies.Add(await PostAsync(host.Client, body));
            latencies.Sort();
            var median = latencies[Samples / 2];
            baseMedian ??= median;
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{name,-46} {body.Length / 1024.0,9:F0} KiB {median,10:F2} ms {latencies[^1],10:F2} ms {median / baseMedian.Value,8:F1}x"));
        }
        Directory.Delete(workDir, true);
        return $"""
            == hostile reviews, one at a time ({Samples} samples each after 2 warm-ups, HTTPS on loopback)
            review                                          body size     median        max   vs baseline
            {string.Join("\n", lines)}

            """;
    }

    private static PodBuilder Repeat(PodBuilder pod, int count, Func<PodBuilder, int, PodBuilder> add)
    {
        for (var i = 0; i < count; i++)
            pod = add(pod, i);
        return pod;
    }

    private static string Review(PodBuilder pod) => AdmissionReviewBuilder.ForPod(pod);

    /// <summary>One review posted and answered; the wall time in milliseconds.</summary>
    internal static async Task<double> PostAsync(HttpClient client, string body)
    {
        var started = Stopwatch.GetTimestamp();
        using var content = new StringContent(body, MediaTypeHeaderValue.Parse("application/json"));
        using var response = await client.PostAsync("/mutate-pods", content);
        await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"HTTP {(int)response.StatusCode}");
        return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    }
}
