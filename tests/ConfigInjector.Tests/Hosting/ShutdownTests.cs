using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Builders;
using ConfigInjector.TestSupport.Fakes;

namespace ConfigInjector.Tests.Hosting;

/// <summary>
/// A rolling update or a drained node stops a replica while the API server is still sending it admissions. From
/// SIGTERM on, /readyz fails at once; admissions keep being answered through the shutdown delay (while endpoints
/// move), and those in flight when the listener closes are finished, not cut.
/// </summary>
public class ShutdownTests
{
    [Fact]
    public async Task Admissions_sent_while_the_host_stops_all_succeed_and_readiness_fails_at_once()
    {
        var delay = TimeSpan.FromSeconds(4);
        await using var vault = await VaultFake.StartAsync();
        vault.EnableKv("secret", 2);
        for (var i = 0; i < 400; i++)
            vault.Put($"secret/app/s{i}", new Dictionary<string, string> { ["v"] = $"value-{i}" });
        vault.Delay = TimeSpan.FromMilliseconds(300);   // each admission reads a new path: each is in flight a while
        await using var server = await VaultWebhook.StartAsync(vault, ["timeout: 10s"], settings: s => s with { ShutdownDelay = delay });
        var statuses = new ConcurrentBag<(HttpStatusCode Status, bool Allowed)>();
        var next = -1;
        var clock = Stopwatch.StartNew();
        TimeSpan? stopAt = null;

        // Four callers, as the API server's connections: they send until a while before the delay ends, when a real
        // cluster has taken the replica out of the endpoints (the while leaves a loaded machine time to deliver the last).
        async Task Caller()
        {
            while (stopAt is null || clock.Elapsed < stopAt.Value + delay - TimeSpan.FromMilliseconds(1500))
            {
                var pod = PodBuilder.Injected().WithAnnotation("configinjector.io/secret.V", $"vault-prod:secret/app/s{Interlocked.Increment(ref next)}#v");
                var result = await server.ReviewPodAsync(pod);
                statuses.Add((result.HttpStatus, result.Allowed));
            }
        }
        var callers = Enumerable.Range(0, 4).Select(_ => Task.Run(Caller)).ToList();
        await Eventually.TrueAsync(() => !statuses.IsEmpty, "the first answers");
        stopAt = clock.Elapsed;
        var stopping = server.StopAsync();
        await Eventually.TrueAsync(() => server.Client.GetAsync("/readyz").Result.StatusCode == HttpStatusCode.ServiceUnavailable, "readiness to fail", TimeSpan.FromSeconds(3));

        await Task.WhenAll(callers);
        await stopping;

        Assert.True(statuses.Count > 8, $"{statuses.Count} admissions");
        Assert.All(statuses, s => Assert.Equal((HttpStatusCode.OK, true), s));
    }

    [Fact]
    public async Task An_admission_held_in_the_backend_while_the_listener_closes_is_finished_with_200()
    {
        var delay = TimeSpan.FromMilliseconds(500);
        await using var vault = await VaultFake.StartAsync();
        vault.EnableKv("secret", 2);
        vault.Put("secret/app/held", new Dictionary<string, string> { ["v"] = "value" });
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        vault.Hold = path =>
        {
            if (!path.EndsWith("/app/held", StringComparison.Ordinal))
                return Task.CompletedTask;
            arrived.TrySetResult();
            return release.Task;
        };
        await using var server = await VaultWebhook.StartAsync(vault, ["timeout: 10s"], settings: s => s with { ShutdownDelay = delay });
        var port = server.Client.BaseAddress!.Port;
        var admission = server.ReviewPodAsync(PodBuilder.Injected().WithAnnotation("configinjector.io/secret.V", "vault-prod:secret/app/held#v"));
        await arrived.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var stopping = server.StopAsync();
        await Eventually.TrueAsync(() => !Listens(port), "the listener to close after the shutdown delay", TimeSpan.FromSeconds(10));
        // Kept in the backend a while longer after the listener closed, as a slow Vault would.
        await Task.Delay(delay);
        release.TrySetResult();
        var result = await admission;
        await stopping;

        Assert.Equal((HttpStatusCode.OK, true), (result.HttpStatus, result.Allowed));
    }

    private static bool Listens(int port)
    {
        using var client = new TcpClient();
        try
        {
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
