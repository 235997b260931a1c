using System.Diagnostics;
using System.Text.Json.Nodes;

namespace ConfigInjector.TestSupport;

/// <summary>
/// A real Prometheus (Debian's binary) on a loopback port, with a scrape configuration, rule files and a storage
/// folder of its own in a scratch directory; scrapes and evaluates every second. Disposing kills it.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly Process _process;
    private readonly string _folder;

    private PrometheusServer(Process process, string folder, HttpClient client)
    {
        _process = process;
        _folder = folder;
        Client = client;
    }

    public HttpClient Client { get; }

    /// <param name="scrapeConfig">One entry of <c>scrape_configs</c>, as JSON.</param>
    /// <param name="ruleFiles">Contents of rule files (JSON is YAML), loaded with the configuration.</param>
    public static async Task<PrometheusServer> StartAsync(JsonObject scrapeConfig, params string[] ruleFiles)
    {
        var folder = ScratchDirectory.Create();
        var rules = new JsonArray();
        for (var i = 0; i < ruleFiles.Length; i++)
        {
            var file = Path.Combine(folder, $"rules-{i}.yaml");
            File.WriteAllText(file, ruleFiles[i]);
            rules.Add(file);
        }
        var config = new JsonObject
        {
            ["global"] = new JsonObject { ["scrape_interval"] = "1s", ["evaluation_interval"] = "1s" },
            ["rule_files"] = rules,
            ["scrape_configs"] = new JsonArray(scrapeConfig),
        };
        File.WriteAllText(Path.Combine(folder, "prometheus.yml"), config.ToJsonString());
        var port = LoopbackPort.Free();
        var start = new ProcessStartInfo(PrometheusTools.Server,
        [
            "--config.file=" + Path.Combine(folder, "prometheus.yml"), "--storage.tsdb.path=" + Path.Combine(folder, "data"),
            $"--web.listen-address=127.0.0.1:{port}",
        ])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(start)!;
        // Its log goes to stderr; read it so a full pipe never blocks the server.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new PrometheusServer(process, folder, new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) });
        await server.WaitUntilAsync(async () => (await server.TryGetAsync("/-/ready"))?.IsSuccessStatusCode == true, "Prometheus never became ready");
        return server;
    }

    /// <summary>The <c>data</c> of a successful API answer; a failed one (a query that does not parse) throws with Prometheus' reason.</summary>
    public async Task<JsonNode> ApiAsync(string pathAndQuery)
    {
        using var response = await Client.GetAsync(pathAndQuery);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        return body["status"]?.GetValue<string>() == "success"
            ? body["data"]!
            : throw new InvalidOperationException($"{pathAndQuery}: {body["errorType"]}: {body["error"]}");
    }

    /// <summary>The series that match a selector.</summary>
    public async Task<JsonArray> SeriesAsync(string selector) =>
        (await ApiAsync("/api/v1/series?match[]=" + Uri.EscapeDataString(selector))).AsArray();

    public async Task WaitUntilAsync(Func<Task<bool>> condition, string failure)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            if (deadline.Elapsed > Patience || _process.HasExited)
                throw new TimeoutException($"{failure} (within {Patience.TotalSeconds}s; exited: {_process.HasExited})");
            await Task.Delay(200);
        }
    }

    private async Task<HttpResponseMessage?> TryGetAsync(string path)
    {
        try
        {
            return await Client.GetAsync(path);
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A leftover scratch folder in /tmp is harmless.
        }
    }
}
