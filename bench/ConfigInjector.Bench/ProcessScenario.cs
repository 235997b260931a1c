using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ConfigInjector.Tls;

namespace ConfigInjector.Bench;

/// <summary>
/// The product as platform teams run it, out of process: <c>configinjector serve</c> (the embedded default) against a
/// no-op ASP.NET Core endpoint with the same certificate, each started fresh per round, rounds alternated. Per process:
/// start to <c>/readyz</c> 200, the first admission on a new connection, RSS idle, throughput (closed loop), p50/p99
/// at a fixed rate (open loop, latency from the scheduled send time so a stall is not hidden), RSS under load.
/// </summary>
internal static class ProcessScenario
{
    private sealed record Sample(double ReadyMs, double FirstMs, double IdleRssMiB, double Rps, double P50, double P99, double LoadRssMiB);

    public static async Task<string> RunAsync(BenchOptions options)
    {
        var workDir = WorkDirectory.WithExamples();
        var certs = Path.Combine(workDir, DevCertificate.Folder);
        DevCertificate.EnsureExists(certs, TimeProvider.System);
        var review = await File.ReadAllTextAsync(Path.Combine(workDir, "examples", "admission-review.json"));
        var product = options.Binary is { } binary ? Path.GetFullPath(binary) : Path.Combine(WorkDirectory.FindRepo(), "src", "ConfigInjector", "bin", "Release", "net10.0", "configinjector");
        if (!File.Exists(product))
            throw new InvalidOperationException($"{product} not found: build src/ConfigInjector in Release first, or pass --binary");
        var self = Environment.ProcessPath!;

        var noop = new List<Sample>();
        var mutate = new List<Sample>();
        for (var round = 0; round < options.Rounds; round++)
        {
            noop.Add(await MeasureAsync(port => Start(self, $"--serve-noop https://127.0.0.1:{port} {certs}/tls.crt {certs}/tls.key", workDir), review, options));
            mutate.Add(await MeasureAsync(port => Start(product, $"serve --urls https://127.0.0.1:{port}", workDir, BenchServeEnvironment()), review, options));
        }
        Directory.Delete(workDir, true);

        Sample Median(List<Sample> s) => new(Stats.Median(s.Select(x => x.ReadyMs)), Stats.Median(s.Select(x => x.FirstMs)), Stats.Median(s.Select(x => x.IdleRssMiB)),
            Stats.Median(s.Select(x => x.Rps)), Stats.Median(s.Select(x => x.P50)), Stats.Median(s.Select(x => x.P99)), Stats.Median(s.Select(x => x.LoadRssMiB)));
        var n = Median(noop);
        var m = Median(mutate);
        return string.Create(CultureInfo.InvariantCulture, $"""
            == process: configinjector serve vs a no-op ASP.NET Core endpoint ({options.Rounds} alternating rounds, each a fresh process; client in the bench process)
            body: examples/admission-review.json; after {options.WarmupSeconds} s at {options.Rate} req/s: throughput of {options.Requests} requests at concurrency {options.Concurrency}, then {options.Rate} req/s for {options.Seconds} s
            medians over rounds             no-op   configinjector   goal
            requests/s                  {n.Rps,9:F0}   {m.Rps,9:F0} ({m.Rps / n.Rps:F2}x)   >= 0.40x
            p50 at fixed rate (ms)      {n.P50,9:F2}   {m.P50,9:F2} (+{m.P50 - n.P50:F2})
            p99 at fixed rate (ms)      {n.P99,9:F2}   {m.P99,9:F2} (+{m.P99 - n.P99:F2})   <= +1 ms
            RSS idle (MiB)              {n.IdleRssMiB,9:F1}   {m.IdleRssMiB,9:F1}          <= 55
            RSS under load (MiB)        {n.LoadRssMiB,9:F1}   {m.LoadRssMiB,9:F1}          <= 70
            start to /readyz 200 (ms)   {n.ReadyMs,9:F0}   {m.ReadyMs,9:F0}          <= 500
            first admission (ms)        {n.FirstMs,9:F1}   {m.FirstMs,9:F1}          <= 20

            """);
    }

    internal static Process Start(string file, string arguments, string workDir, IReadOnlyDictionary<string, string>? environment = null)
    {
        // Output goes to a file, as a container runtime takes it: a bench process draining a pipe would compete
        // with the load it generates, and a full pipe would stall the server's logging.
        var info = new ProcessStartInfo("/bin/sh", ["-c", $"exec \"{file}\" {arguments} >> \"{Path.Combine(workDir, "server.log")}\" 2>&1"])
        {
            WorkingDirectory = workDir,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            info.Environment[name] = value;
        return Process.Start(info)!;
    }

    /// <summary>
    /// <c>BENCH_SERVE_ENV</c> ("NAME=value;…", e.g. <c>DOTNET_GCHeapHardLimit=0xC000000</c>, the heap limit the runtime
    /// derives from the chart's 256Mi) for the product's serve processes only, never the no-op or the bench.
    /// </summary>
    internal static Dictionary<string, string> BenchServeEnvironment()
    {
        var environment = new Dictionary<string, string>();
        foreach (var pair in (Environment.GetEnvironmentVariable("BENCH_SERVE_ENV") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
                throw new InvalidOperationException($"BENCH_SERVE_ENV: \"{pair}\" is not NAME=value");
            environment[pair[..equals]] = pair[(equals + 1)..];
        }
        return environment;
    }

    private static async Task<Sample> MeasureAsync(Func<int, Process> start, string review, BenchOptions options)
    {
        var port = FreePort();
        var started = Stopwatch.GetTimestamp();
        using var process = start(port);
        try
        {
            var trust = CustomCaTrust.Validator(CustomCaTrust.LoadBundle(Path.Combine(Path.GetDirectoryName(process.StartInfo.WorkingDirectory + "/")!, DevCertificate.Folder, "ca.crt")));
            var readyMs = await WaitReadyAsync(port, trust, started, process);

            using var first = Client(port, trust, 1);
            var t0 = Stopwatch.GetTimestamp();
            await PostAsync(first, review);
            var firstMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            await Task.Delay(300);
            var idle = RssMiB(process.Id);

            using var client = Client(port, trust, 64);
            // Steady state is what a long-running replica shows: tiered compilation settles in the first seconds.
            await FixedRateAsync(client, review, options.Rate, options.WarmupSeconds);
            var peak = 0.0;
            using var sampling = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested)
                {
                    peak = Math.Max(peak, RssMiB(process.Id));
                    await Task.Delay(100, CancellationToken.None);
                }
            });
            var rps = await ClosedLoopAsync(client, review, options.Requests, options.Concurrency);
            var (p50, p99) = await FixedRateAsync(client, review, options.Rate, options.Seconds);
            await sampling.CancelAsync();
            await sampler;
            return new Sample(readyMs, firstMs, idle, rps, p50, p99, peak);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    internal static async Task<double> WaitReadyAsync(int port, System.Net.Security.RemoteCertificateValidationCallback trust, long started, Process process)
    {
        using var client = Client(port, trust, 1);
        client.Timeout = TimeSpan.FromSeconds(1);
        while (Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(30))
        {
            if (process.HasExited)
                throw new InvalidOperationException($"{process.StartInfo.FileName} exited with {process.ExitCode}");
            try
            {
                using var answer = await client.GetAsync("/readyz");
                if (answer.StatusCode == HttpStatusCode.OK)
                    return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(5);
        }
        throw new InvalidOperationException($"{process.StartInfo.FileName} was not ready within 30 s");
    }

    private static async Task<double> ClosedLoopAsync(HttpClient client, string review, int requests, int concurrency)
    {
        var next = -1;
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) < requests)
                await PostAsync(client, review);
        }));
        return requests / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    internal static async Task<(double P50, double P99)> FixedRateAsync(HttpClient client, string review, int rate, int seconds)
    {
        var count = rate * seconds;
        var latencies = new double[count];
        var tasks = new Task[count];
        var started = Stopwatch.GetTimestamp();
        var frequency = (double)Stopwatch.Frequency;
        for (var i = 0; i < count; i++)
        {
            var due = started + (long)(i * frequency / rate);
            while (Stopwatch.GetTimestamp() < due)
            {
                if ((due - Stopwatch.GetTimestamp()) / frequency > 0.002)
                    await Task.Delay(1);
                else
                    Thread.SpinWait(50);
            }
            var index = i;
            tasks[i] = Task.Run(async () =>
            {
                await PostAsync(client, review);
                latencies[index] = (Stopwatch.GetTimestamp() - due) * 1000 / frequency;
            });
        }
        await Task.WhenAll(tasks);
        Array.Sort(latencies);
        return (Stats.Percentile(latencies, 0.50), Stats.Percentile(latencies, 0.99));
    }

    internal static async Task PostAsync(HttpClient client, string review)
    {
        using var content = new StringContent(review, Encoding.UTF8, "application/json");
        using var response = await client.PostAsync("/mutate-pods", content);
        var answer = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode || !answer.Contains("\"allowed\":true", StringComparison.Ordinal))
            throw new InvalidOperationException($"HTTP {(int)response.StatusCode}: {answer[..Math.Min(300, answer.Length)]}");
    }

    internal static HttpClient Client(int port, System.Net.Security.RemoteCertificateValidationCallback trust, int connections)
    {
        var handler = new SocketsHttpHandler { MaxConnectionsPerServer = connections };
        handler.SslOptions.RemoteCertificateValidationCallback = trust;
        return new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{port}") };
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Resident set size from /proc (what the kubelet's working-set metric and an OOM kill look at, near enough).</summary>
    internal static double RssMiB(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
