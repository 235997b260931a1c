using System.Diagnostics;
using System.Globalization;

namespace ConfigInjector.Bench;

/// <summary>
/// Seconds from a value written in the vault to the managed Secret updated in the API server, for each way of asking
/// for a refresh, against polling alone in the same run (<see cref="RefreshBenchCluster"/>: the real serve host leading,
/// fakes on loopback). Each trigger has its own Secret and ref and its own loop of <c>--rounds</c> writes, each at a
/// random offset within the rotation interval (<c>--interval</c>, 30 s), so a write lands anywhere in the poll cycle;
/// the loops run side by side, but one trigger at a time writes and waits (polling alongside): the leader serves refresh
/// requests that arrive within two seconds of each other in one batch, and a trigger that joined another's batch would
/// look faster than it is alone.
/// </summary>
internal static class RefreshTriggersScenario
{
    private static readonly TimeSpan TwoTicks = TimeSpan.FromSeconds(2);

    private sealed record Trigger(string Label, string Name, string Reference, Func<string, string> Write, Func<string, string, Task> Fire);

    public static async Task<string> RunAsync(BenchOptions options)
    {
        var interval = TimeSpan.FromSeconds(options.Interval);
        await using var cluster = await RefreshBenchCluster.StartAsync(interval);
        Func<string, string> Vault(string path) => value => cluster.Vault.Put(path, new Dictionary<string, string> { ["value"] = value }).ToString(CultureInfo.InvariantCulture);
        Trigger[] triggers =
        [
            new("polling only (the baseline)", "poll", "vault:secret/bench/poll#value", Vault("secret/bench/poll"), (_, _) => Task.CompletedTask),
            new("refresh annotation", "annotation", "vault:secret/bench/annotation#value", Vault("secret/bench/annotation"),
                (secret, version) => cluster.AnnotateAsync(secret, "bench-" + version)),
            new("`configinjector rotate --ref`", "rotate", "vault:secret/bench/rotate#value", Vault("secret/bench/rotate"), (_, _) => cluster.RotateAsync("vault:secret/bench/rotate")),
            new("`POST /refresh` {\"refs\"}", "endpoint", "vault:secret/bench/endpoint#value", Vault("secret/bench/endpoint"),
                (_, _) => cluster.PostRefreshAsync("""{"refs": ["vault:secret/bench/endpoint"]}""")),
            new("Event Grid SecretNewVersionCreated (Key Vault)", "event-grid", "kv:bench-event-grid", value => cluster.KeyVault.Set("bench-event-grid", value),
                (_, version) => cluster.PostRefreshAsync(cluster.EventGridDelivery("bench-event-grid", version))),
            new("Vault event (`events: true`)", "vault-event", "vault-events:secret/bench/event#value", Vault("secret/bench/event"), (_, _) => Task.CompletedTask),
        ];
        var secrets = new List<string>();
        foreach (var trigger in triggers)
        {
            trigger.Write("bench-initial");
            secrets.Add(await cluster.AdmitAsync(trigger.Name, trigger.Reference));
        }

        var started = Stopwatch.StartNew();
        using var oneTrigger = new SemaphoreSlim(1);
        var seconds = await Task.WhenAll(triggers.Select((t, i) => MeasureAsync(cluster, t, secrets[i], options.Rounds, interval, i == 0 ? null : oneTrigger)));
        var polling = Median(seconds[0]);
        var rows = triggers.Select((t, i) => string.Create(CultureInfo.InvariantCulture,
            $"| {t.Label} | {Median(seconds[i]):F2} | {seconds[i].Min():F2} | {seconds[i].Max():F2} | {Median(seconds[i]) / polling:F3} |"));
        return string.Create(CultureInfo.InvariantCulture, $"""
            == refresh triggers: seconds from a vault write to the managed Secret updated in the API server (serve leading, sync worker, fakes on loopback)
            rotation interval {interval.TotalSeconds:F0} s (polling alone: expect a median near {interval.TotalSeconds / 2:F0} s, a max near {interval.TotalSeconds:F0} s); {options.Rounds} writes per trigger at random offsets in the interval, each trigger on its own Secret and ref, one trigger at a time with polling alongside; {started.Elapsed.TotalSeconds:F0} s in all

            | trigger | median s | min s | max s | median / polling's |
            |---|---|---|---|---|
            {string.Join("\n", rows)}

            """);
    }

    /// <param name="alone">Held from the write until the Secret is updated (null for polling, which asks nothing of the leader).</param>
    private static async Task<List<double>> MeasureAsync(RefreshBenchCluster cluster, Trigger trigger, string secret, int rounds, TimeSpan interval, SemaphoreSlim? alone)
    {
        var seconds = new List<double>();
        for (var round = 1; round <= rounds; round++)
        {
            await Task.Delay(interval * Random.Shared.NextDouble());
            if (alone is not null)
            {
                await alone.WaitAsync();
                // The trigger before ended just after one of the leader's ticks (1 s apart): starting now would put every
                // write at the same phase of the tick. A pause of up to two ticks spreads them over it.
                await Task.Delay(TwoTicks * Random.Shared.NextDouble());
            }
            try
            {
                seconds.Add(await RoundAsync(cluster, trigger, secret, round, interval));
            }
            finally
            {
                alone?.Release();
            }
        }
        return seconds;
    }

    private static async Task<double> RoundAsync(RefreshBenchCluster cluster, Trigger trigger, string secret, int round, TimeSpan interval)
    {
        var value = $"bench-{trigger.Name}-{round}";
        var clock = Stopwatch.StartNew();
        var version = trigger.Write(value);
        await trigger.Fire(secret, version);
        // Polling's worst case is one interval plus its jitter (10%) and a tick; past twice that, the trigger is broken.
        await RefreshBenchCluster.UntilAsync(() => cluster.Value(secret) == value, $"{trigger.Label}: the Secret to take round {round}'s value", interval * 2);
        return clock.Elapsed.TotalSeconds;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
