using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Builders;
using ConfigInjector.TestSupport.Fakes;

namespace ConfigInjector.Tests.Hosting;

/// <summary>
/// <c>configinjector serve</c> as its own process, as the container runs it: JSON logs an operator's pipeline can
/// parse line by line, and a SIGTERM that ends in a clean exit.
/// </summary>
public class ServeProcessTests
{
    [Fact]
    public async Task Json_logs_are_one_object_per_line_with_the_pod_and_no_value_and_sigterm_exits_cleanly()
    {
        var work = ScratchDirectory.CreateWithExamples();
        var port = LoopbackPort.Free();
        var lines = new ConcurrentQueue<string>();
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "configinjector.dll"), "serve", "--urls", $"https://127.0.0.1:{port}", "--log-format", "json", "--shutdown-delay", "1s"])
        {
            WorkingDirectory = work,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment.Remove("KUBECONFIG");
        using var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var ca = Path.Combine(work, "webhook-certs", "dev", "ca.crt");
            await Eventually.TrueAsync(() => File.Exists(ca), "the dev certificate", TimeSpan.FromSeconds(30));
            using var trusted = WebhookServer.TrustingClient(ca);
            trusted.BaseAddress = new Uri($"https://127.0.0.1:{port}");
            await Eventually.TrueAsync(() => Healthy(trusted), "serve to answer", TimeSpan.FromSeconds(30));
            var body = AdmissionReviewBuilder.ForPod(PodBuilder.Injected("json-logged").WithAnnotation("configinjector.io/secret.DB_PASSWORD", "dev:app/db#password"));
            using var response = await trusted.PostAsync("/mutate-pods", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await Eventually.TrueAsync(() => lines.Any(l => l.Contains("ConfigInjector.Audit", StringComparison.Ordinal)), "the audit line");
        }
        finally
        {
            using var term = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await term.WaitForExitAsync();
        }
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, process.ExitCode);
        Assert.All(lines, line => Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(line).RootElement.ValueKind));
        var audit = JsonDocument.Parse(lines.Single(l => l.Contains("ConfigInjector.Audit", StringComparison.Ordinal))).RootElement;
        var scope = audit.GetProperty("Scopes").EnumerateArray().Single(s => s.ValueKind == JsonValueKind.Object && s.TryGetProperty("uid", out _));
        Assert.Equal(("default", "json-logged"), (scope.GetProperty("namespace").GetString(), scope.GetProperty("pod").GetString()));
        using var entry = JsonDocument.Parse(audit.GetProperty("State").GetProperty("Audit").GetString()!);
        Assert.Equal("allowed", entry.RootElement.GetProperty("decision").GetString());
        Assert.Equal(["dev:app/db#password"], entry.RootElement.GetProperty("refs").EnumerateArray().Select(r => r.GetString()));
        foreach (var value in DevSecrets.Values(Path.Combine(work, "examples", "dev-secrets.yaml")))
            Assert.DoesNotContain(lines, l => l.Contains(value, StringComparison.Ordinal));
    }

    private static bool Healthy(HttpClient client)
    {
        try
        {
            return client.GetAsync("/healthz").Result.IsSuccessStatusCode;
        }
        catch (AggregateException)
        {
            return false;
        }
    }
}
