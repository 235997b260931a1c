using System.Globalization;
using Microsoft.AspNetCore.Builder;

namespace ConfigInjector.Bench;

/// <summary>
/// POST /mutate-pods against a no-op POST /noop served by the same Kestrel host with the same TLS certificate,
/// in alternating rounds so machine noise hits both alike.
/// </summary>
internal static class AdmissionScenario
{
    public static async Task<string> RunAsync(BenchOptions options)
    {
        var workDir = WorkDirectory.WithExamples();
        var review = await File.ReadAllTextAsync(Path.Combine(workDir, "examples", "admission-review.json"));
        var noopAnswer = """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"7f0b2c1e-5b7a-4c1e-9d2a-3c4b5a6d7e8f","allowed":true}}"""u8.ToArray();
        await using var host = await BenchHost.StartAsync(workDir, options.Concurrency, web => web.MapPost("/noop", async context =>
        {
            // The same work at the edges as the webhook: read the whole body, answer a small AdmissionReview.
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer);
            context.Response.ContentType = "application/json";
            await context.Response.Body.WriteAsync(noopAnswer);
        }));

        await host.RunAsync("/noop", options.Warmup, options.Concurrency, _ => review);
        await host.RunAsync("/mutate-pods", options.Warmup, options.Concurrency, _ => review);
        var noop = new List<Round>();
        var mutate = new List<Round>();
        for (var round = 0; round < options.Rounds; round++)
        {
            noop.Add(await host.RunAsync("/noop", options.Requests, options.Concurrency, _ => review));
            mutate.Add(await host.RunAsync("/mutate-pods", options.Requests, options.Concurrency, _ => review));
        }
        Directory.Delete(workDir, true);

        var n = Stats.Summary(noop);
        var m = Stats.Summary(mutate);
        return string.Create(CultureInfo.InvariantCulture, $"""
            == admission vs no-op ({options.Rounds} alternating rounds x {options.Requests} requests, concurrency {options.Concurrency}, HTTPS on loopback, client in-process)
            body: examples/admission-review.json (3 refs from the file backend, 1 file, managed Secret written to the in-process store)
            medians over rounds       median ms    p99 ms     req/s   alloc/req (client+server)
            /noop (baseline)          {n.Median,9:F3} {n.P99,9:F3} {n.Rps,9:F0} {n.Alloc / 1024,9:F1} KiB
            /mutate-pods              {m.Median,9:F3} {m.P99,9:F3} {m.Rps,9:F0} {m.Alloc / 1024,9:F1} KiB
            ratio mutate/noop         {m.Median / n.Median,9:F2} {m.P99 / n.P99,9:F2} {m.Rps / n.Rps,9:F2} {m.Alloc / n.Alloc,9:F2}

            """);
    }
}
