using System.Diagnostics;
using System.Net.Http.Headers;
using ConfigInjector.Hosting;
using ConfigInjector.Tls;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ConfigInjector.Bench;

internal sealed record Round(double MedianMs, double P99Ms, double RequestsPerSecond, double AllocatedBytesPerRequest);

/// <summary>A webhook host on loopback TLS and an HTTPS client that trusts it, in this process.</summary>
internal sealed class BenchHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private BenchHost(WebApplication app, HttpClient client, string workDir)
    {
        _app = app;
        Client = client;
        WorkDir = workDir;
    }

    public HttpClient Client { get; }
    public string WorkDir { get; }

    public static async Task<BenchHost> StartAsync(string workDir, int concurrency, Action<WebApplication>? mapExtra = null)
    {
        var app = WebhookHost.Build(
            new ServeSettings { Urls = ["https://127.0.0.1:0"], WorkingDirectory = workDir },
            builder => builder.Logging.SetMinimumLevel(LogLevel.Warning),
            mapExtra);
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        var handler = new SocketsHttpHandler { MaxConnectionsPerServer = concurrency };
        handler.SslOptions.RemoteCertificateValidationCallback = CustomCaTrust.Validator(CustomCaTrust.LoadBundle(Path.Combine(workDir, "webhook-certs", "dev", "ca.crt")));
        return new BenchHost(app, new HttpClient(handler) { BaseAddress = address }, workDir);
    }

    /// <summary>Sends <paramref name="requests"/> POSTs with <paramref name="concurrency"/> in flight; latency per request, throughput per round.</summary>
    public async Task<Round> RunAsync(string path, int requests, int concurrency, Func<int, string> body)
    {
        var latencies = new double[requests];
        var next = -1;
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < requests)
            {
                var t0 = Stopwatch.GetTimestamp();
                using var content = new StringContent(body(i), MediaTypeHeaderValue.Parse("application/json"));
                using var response = await Client.PostAsync(path, content);
                var answer = await response.Content.ReadAsStringAsync();
                if (!response.IsSuccessStatusCode || answer.Contains("\"allowed\":false", StringComparison.Ordinal))
                    throw new InvalidOperationException($"{path}: HTTP {(int)response.StatusCode} {answer}");
                latencies[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            }
        }));
        var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
        Array.Sort(latencies);
        return new Round(Stats.Percentile(latencies, 0.50), Stats.Percentile(latencies, 0.99), requests / elapsed,
            (GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore) / (double)requests);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

internal static class Stats
{
    public static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    public static (double Median, double P99, double Rps, double Alloc) Summary(List<Round> rounds) =>
        (Median(rounds.Select(r => r.MedianMs)), Median(rounds.Select(r => r.P99Ms)), Median(rounds.Select(r => r.RequestsPerSecond)), Median(rounds.Select(r => r.AllocatedBytesPerRequest)));
}

internal static class WorkDirectory
{
    public static string WithExamples()
    {
        var repo = FindRepo();
        var workDir = Path.Combine(Path.GetTempPath(), "configinjector-bench-" + Guid.NewGuid().ToString("N")[..8]);
        foreach (var file in Directory.GetFiles(Path.Combine(repo, "examples"), "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(workDir, Path.GetRelativePath(repo, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return workDir;
    }

    public static string FindRepo()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ConfigInjector.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException("run the benchmark from inside the repository");
    }
}
