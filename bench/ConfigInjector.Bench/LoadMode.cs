using System.Globalization;

namespace ConfigInjector.Bench;

/// <summary>
/// <c>--load PORT CA_FILE SECONDS [RATE] [PID]</c>: POSTs examples/admission-review.json to a running webhook at a
/// fixed rate and prints, every 10 s, p50/p99 (from the scheduled send time) and the server's RSS. The soak script
/// and profiling sessions drive the server with it.
/// </summary>
internal static class LoadMode
{
    public static async Task RunAsync(int port, string caFile, int seconds, int rate, int? pid)
    {
        var review = await File.ReadAllTextAsync(Path.Combine(WorkDirectory.FindRepo(), "examples", "admission-review.json"));
        using var client = ProcessScenario.Client(port, Tls.CustomCaTrust.Validator(Tls.CustomCaTrust.LoadBundle(caFile)), 64);
        for (var left = seconds; left > 0; left -= 10)
        {
            var (p50, p99) = await ProcessScenario.FixedRateAsync(client, review, rate, Math.Min(10, left));
            var rss = pid is { } id ? ProcessScenario.RssMiB(id) : double.NaN;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:HH:mm:ss} {rate} req/s  p50 {p50:F2} ms  p99 {p99:F2} ms  RSS {rss:F1} MiB"));
        }
    }
}
