using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using ConfigInjector.Bench;
using ConfigInjector.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

// Admission latency and throughput of POST /mutate-pods against a no-op POST endpoint served by the same
// Kestrel host with the same TLS certificate, measured in alternating rounds in one run so machine noise
// hits both alike. Reports medians over rounds and the ratio to the baseline.
var options = BenchOptions.Parse(args);
var repo = RepoRoot.Find();
var workDir = Path.Combine(Path.GetTempPath(), "configinjector-bench-" + Guid.NewGuid().ToString("N")[..8]);
RepoRoot.CopyExamples(repo, workDir);
var review = await File.ReadAllTextAsync(Path.Combine(repo, "examples", "admission-review.json"));
var noopAnswer = """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"7f0b2c1e-5b7a-4c1e-9d2a-3c4b5a6d7e8f","allowed":true}}"""u8.ToArray();

await using var app = WebhookHost.Build(
    new ServeSettings { Urls = ["https://127.0.0.1:0"], WorkingDirectory = workDir },
    builder => builder.Logging.SetMinimumLevel(LogLevel.Warning),
    web => web.MapPost("/noop", async context =>
    {
        // Same work at the edges as the webhook: read the whole body, answer a small AdmissionReview.
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(noopAnswer);
    }));
await app.StartAsync();
var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

var ca = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(workDir, "webhook-certs", "dev", "ca.crt"));
var handler = new SocketsHttpHandler { MaxConnectionsPerServer = options.Concurrency };
handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
{
    using var chain = new X509Chain();
    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
    chain.ChainPolicy.CustomTrustStore.Add(ca);
    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
    return certificate is X509Certificate2 cert && chain.Build(cert);
};
using var client = new HttpClient(handler) { BaseAddress = address };

async Task<Round> RunRound(string path, int requests)
{
    var latencies = new double[requests];
    var next = -1;
    var allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
    var started = Stopwatch.GetTimestamp();
    await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(async _ =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < requests)
        {
            var t0 = Stopwatch.GetTimestamp();
            using var content = new StringContent(review, MediaTypeHeaderValue.Parse("application/json"));
            using var response = await client.PostAsync(path, content);
            await response.Content.ReadAsByteArrayAsync();
            if (!response.IsSuccessStatusCode)
                throw new InvalidOperationException($"{path}: HTTP {(int)response.StatusCode}");
            latencies[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }
    }));
    var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
    Array.Sort(latencies);
    return new Round(
        Percentile(latencies, 0.50), Percentile(latencies, 0.99), requests / elapsed,
        (GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore) / (double)requests);
}

Console.WriteLine($"warming up ({options.Warmup} requests per endpoint, concurrency {options.Concurrency})");
await RunRound("/noop", options.Warmup);
await RunRound("/mutate-pods", options.Warmup);

var noop = new List<Round>();
var mutate = new List<Round>();
for (var round = 0; round < options.Rounds; round++)
{
    noop.Add(await RunRound("/noop", options.Requests));
    mutate.Add(await RunRound("/mutate-pods", options.Requests));
}

var report = Report.Build(options, noop, mutate);
Console.WriteLine(report);
if (options.Out is { } outFile)
{
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outFile))!);
    await File.WriteAllTextAsync(outFile, report);
}
await app.StopAsync();
Directory.Delete(workDir, true);

static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

namespace ConfigInjector.Bench
{
    internal sealed record Round(double MedianMs, double P99Ms, double RequestsPerSecond, double AllocatedBytesPerRequest);

    internal sealed record BenchOptions(int Requests, int Rounds, int Concurrency, int Warmup, string? Out)
    {
        public static BenchOptions Parse(string[] args)
        {
            int Get(string name, int fallback)
            {
                var i = Array.IndexOf(args, name);
                return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
            }
            var outIndex = Array.IndexOf(args, "--out");
            return new BenchOptions(Get("--requests", 2000), Get("--rounds", 5), Get("--concurrency", 8), Get("--warmup", 1000),
                outIndex >= 0 && outIndex + 1 < args.Length ? args[outIndex + 1] : null);
        }
    }

    internal static class Report
    {
        public static string Build(BenchOptions options, List<Round> noop, List<Round> mutate)
        {
            static double Median(IEnumerable<double> values)
            {
                var sorted = values.Order().ToArray();
                return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
            }
            var n = (Median: Median(noop.Select(r => r.MedianMs)), P99: Median(noop.Select(r => r.P99Ms)), Rps: Median(noop.Select(r => r.RequestsPerSecond)), Alloc: Median(noop.Select(r => r.AllocatedBytesPerRequest)));
            var m = (Median: Median(mutate.Select(r => r.MedianMs)), P99: Median(mutate.Select(r => r.P99Ms)), Rps: Median(mutate.Select(r => r.RequestsPerSecond)), Alloc: Median(mutate.Select(r => r.AllocatedBytesPerRequest)));
            return string.Create(CultureInfo.InvariantCulture, $"""
                ConfigInjector admission benchmark — {DateTime.UtcNow:u}, {Environment.ProcessorCount} cores, .NET {Environment.Version}
                {options.Rounds} alternating rounds x {options.Requests} requests, concurrency {options.Concurrency}, HTTPS on loopback, client in the same process
                body: examples/admission-review.json (3 refs from the file backend, 1 file, managed Secret written to the in-process store)
                medians over rounds       median ms    p99 ms     req/s   alloc/req (client+server)
                /noop (baseline)          {n.Median,9:F3} {n.P99,9:F3} {n.Rps,9:F0} {n.Alloc / 1024,9:F1} KiB
                /mutate-pods              {m.Median,9:F3} {m.P99,9:F3} {m.Rps,9:F0} {m.Alloc / 1024,9:F1} KiB
                ratio mutate/noop         {m.Median / n.Median,9:F2} {m.P99 / n.P99,9:F2} {m.Rps / n.Rps,9:F2} {m.Alloc / n.Alloc,9:F2}
                added by admission work   {m.Median - n.Median,9:F3} ms median
                """);
        }
    }

    internal static class RepoRoot
    {
        public static string Find()
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "ConfigInjector.sln")))
                    return dir.FullName;
            }
            throw new InvalidOperationException("run the benchmark from inside the repository");
        }

        public static void CopyExamples(string repo, string workDir)
        {
            var examples = Path.Combine(repo, "examples");
            foreach (var file in Directory.GetFiles(examples, "*", SearchOption.AllDirectories))
            {
                var target = Path.Combine(workDir, Path.GetRelativePath(repo, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }
        }
    }
}
