using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using ConfigInjector.TestSupport.Fakes;

namespace ConfigInjector.TestSupport;

/// <summary>
/// <c>configinjector serve</c> as its own process on a loopback port, in a scratch copy of the examples, with the
/// environment the test gives it and every output line kept. <see cref="StopAsync"/> sends SIGTERM, as the kubelet does.
/// </summary>
public sealed class ServeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines;

    private ServeProcess(Process process, ConcurrentQueue<string> lines, string workDir, HttpClient client)
    {
        _process = process;
        _lines = lines;
        WorkDir = workDir;
        Client = client;
    }

    public string WorkDir { get; }

    /// <summary>Trusts the dev CA the process made, and talks to its port.</summary>
    public HttpClient Client { get; }

    public IReadOnlyList<string> Lines => [.. _lines];

    public int ExitCode => _process.ExitCode;

    public static async Task<ServeProcess> StartAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var work = ScratchDirectory.CreateWithExamples();
        var port = LoopbackPort.Free();
        var lines = new ConcurrentQueue<string>();
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "configinjector.dll"), "serve", "--urls", $"https://127.0.0.1:{port}", .. args])
        {
            WorkingDirectory = work,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment.Remove("KUBECONFIG");
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("OTEL_", StringComparison.Ordinal)).ToList())
            start.Environment.Remove(name);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var ca = Path.Combine(work, "webhook-certs", "dev", "ca.crt");
        await Eventually.TrueAsync(() => File.Exists(ca), "the dev certificate", TimeSpan.FromSeconds(30));
        var client = WebhookServer.TrustingClient(ca);
        client.BaseAddress = new Uri($"https://127.0.0.1:{port}");
        var serving = new ServeProcess(process, lines, work, client);
        await Eventually.TrueAsync(serving.Healthy, "serve to answer", TimeSpan.FromSeconds(30));
        return serving;
    }

    /// <summary>SIGTERM, then waits for the exit.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited)
            return;
        using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
            await term.WaitForExitAsync();
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }

    private bool Healthy()
    {
        try
        {
            return Client.GetAsync("/healthz").Result.IsSuccessStatusCode;
        }
        catch (AggregateException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            if (!_process.HasExited)
                _process.Kill();
            _process.Dispose();
            Client.Dispose();
        }
    }
}
