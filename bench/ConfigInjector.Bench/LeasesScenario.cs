using System.Diagnostics;
using System.Globalization;
using ConfigInjector.Sync;

namespace ConfigInjector.Bench;

/// <summary>
/// The lease keeper's passes over 1,000 dynamic credentials (database role: TTL 1 h, max TTL 2 h) against the fake
/// kube-apiserver and the Vault fake over loopback HTTPS, on a fake clock moved so each pass finds every lease in one
/// state: due for renewal (past 2/3 of its TTL), nothing due, near its max TTL (re-issue), and rolled out (the replaced
/// leases revoked). The baseline, in the same run: a rotation pass over 1,000 managed Secrets of one KV ref each
/// (the leader's other per-Secret pass, one Vault read per Secret). Medians of three cycles after a warm-up cycle.
/// </summary>
internal static class LeasesScenario
{
    private const int Leases = 1000;
    private const int Rounds = 3;

    private sealed record Pass(double Seconds, double AllocatedMiB, LeasePassResult? Result, IReadOnlyDictionary<string, int> Vault, IReadOnlyDictionary<string, int> Kube);

    public static async Task<string> RunAsync()
    {
        var setup = Stopwatch.GetTimestamp();
        await using var cluster = await LeaseBenchCluster.StartAsync(Leases);
        var setupSeconds = Stopwatch.GetElapsedTime(setup).TotalSeconds;
        var passes = new Dictionary<string, List<Pass>>(StringComparer.Ordinal);

        async Task MeasureAsync(string name, bool keep, Func<Task<LeasePassResult?>> pass)
        {
            var (vaultBefore, kubeBefore) = (cluster.Vault.Requests.Count, cluster.Api.Requests.Count);
            var allocated = GC.GetTotalAllocatedBytes();
            var started = Stopwatch.GetTimestamp();
            var result = await pass();
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var measured = new Pass(seconds, (GC.GetTotalAllocatedBytes() - allocated) / (1024.0 * 1024),
                result, Kinds(cluster.Vault.Requests.Skip(vaultBefore), VaultKind), Kinds(cluster.Api.Requests.Skip(kubeBefore), KubeKind));
            if (keep)
                (passes.TryGetValue(name, out var list) ? list : passes[name] = []).Add(measured);
        }
        async Task<LeasePassResult?> Keep() => await cluster.Keeper.PassAsync(CancellationToken.None);

        // Cycle 0 warms up JIT, TLS and connection pools. Leases issued at T: renew at T+41m, nothing due at T+41m1s,
        // renewed again at T+82m (granted only what is left of the 2 h max), re-issued at T+108m, old leases revoked
        // after the rollout at T+108m5s; the new leases start the next cycle.
        for (var cycle = 0; cycle <= Rounds; cycle++)
        {
            var keep = cycle > 0;
            var rotation = cluster.NewRotationPass();
            await MeasureAsync("baseline", keep, async () =>
            {
                await rotation.RunAsync(cluster.KvSecrets, CancellationToken.None);
                return null;
            });
            cluster.Time.Advance(TimeSpan.FromMinutes(41));
            await MeasureAsync("renew", keep, Keep);
            cluster.Time.Advance(TimeSpan.FromSeconds(1));
            await MeasureAsync("idle", keep, Keep);
            cluster.Time.Advance(TimeSpan.FromMinutes(41));
            await MeasureAsync("renew-capped", keep: false, Keep);
            cluster.Time.Advance(TimeSpan.FromMinutes(26));
            await MeasureAsync("reissue", keep, Keep);
            cluster.Time.Advance(TimeSpan.FromSeconds(5));
            cluster.RollPods();
            await MeasureAsync("revoke", keep, Keep);
        }

        var baseline = Median(passes["baseline"], p => p.Seconds);
        string Row(string label, string name)
        {
            var list = passes[name];
            double M(Func<Pass, double> f) => Median(list, f);
            double V(string kind) => M(p => p.Vault.GetValueOrDefault(kind));
            double K(string kind) => M(p => p.Kube.GetValueOrDefault(kind));
            return string.Create(CultureInfo.InvariantCulture,
                $"{label,-38} {M(p => p.Seconds),7:F2} {M(p => p.Seconds) / baseline,6:F2} {M(p => p.Result?.Renewed ?? 0),7:F0} {M(p => p.Result?.Reissued ?? 0),7:F0} {M(p => p.Result?.Revoked ?? 0),7:F0} {M(p => p.Result?.Delivered ?? 0),7:F0}"
                + $" {V("renew"),6:F0} {V("issue"),6:F0} {V("mount"),6:F0} {V("revoke"),6:F0} {V("login"),6:F0} {V("kv"),6:F0}"
                + $" {K("list"),6:F0} {K("get"),6:F0} {K("write"),6:F0} {K("event"),6:F0} {M(p => p.AllocatedMiB),8:F0}");
        }
        var others = passes.Values.SelectMany(l => l).SelectMany(p => p.Vault.Keys.Concat(p.Kube.Keys)).Where(k => k.StartsWith("other", StringComparison.Ordinal)).Distinct().ToList();
        return string.Create(CultureInfo.InvariantCulture, $"""
            == leases: one lease keeper pass over {Leases:N0} dynamic credentials (20 namespaces, one pod each; role TTL 1 h, max TTL 2 h), fake kube-apiserver + Vault fake over HTTPS, same process; medians of {Rounds} (setup {setupSeconds:F1} s)
               baseline: a rotation pass over {Leases:N0} managed Secrets of one KV ref each, nothing changed (one Vault read per Secret, reads concurrent, no rate limit)
                                                             ratio | keeper's count                  | Vault calls                                 | Kubernetes calls            | alloc
            pass                                    wall s  to base renewed reissue revoked deliver  renew  issue mounts revoke  login     kv   list    get  write  event      MiB
            {Row("baseline: KV rotation pass", "baseline")}
            {Row("every lease due for renewal", "renew")}
            {Row("no lease due", "idle")}
            {Row("every lease near max TTL: re-issue", "reissue")}
            {Row("after the rollout: old leases revoked", "revoke")}
            per lease: renewal {Median(passes["renew"], p => p.Seconds) * 1000 / Leases:F2} ms, re-issue {Median(passes["reissue"], p => p.Seconds) * 1000 / Leases:F2} ms, no lease due {Median(passes["idle"], p => p.Seconds) * 1000 / Leases:F2} ms (the keeper runs a pass every sync tick, 1 s by default)
            (alloc counts the whole process, the fakes' side of every call included; list/get/write/event: Kubernetes lists, gets, creates/updates/deletes, Events posted{(others.Count == 0 ? "" : "; other calls: " + string.Join(", ", others))})

            """);
    }

    private static double Median(List<Pass> passes, Func<Pass, double> value) => Stats.Median(passes.Select(value));

    private static Dictionary<string, int> Kinds(IEnumerable<string> requests, Func<string, string> kind) =>
        requests.GroupBy(kind).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    /// <summary>The Vault fake logs "METHOD path".</summary>
    private static string VaultKind(string request) => request switch
    {
        "PUT sys/leases/renew" => "renew",
        "PUT sys/leases/revoke" => "revoke",
        _ when request.StartsWith("GET database/creds/", StringComparison.Ordinal) => "issue",
        _ when request.StartsWith("GET sys/internal/ui/mounts/", StringComparison.Ordinal) => "mount",
        _ when request.StartsWith("GET secret/data/", StringComparison.Ordinal) => "kv",
        _ when request.Contains(" auth/", StringComparison.Ordinal) => "login",
        _ => "other vault " + request,
    };

    /// <summary>The API fake logs "METHOD resource namespace/name" (no name for a list).</summary>
    private static string KubeKind(string request) => request.Split(' ') switch
    {
        ["GET", _, var at, ..] => at.EndsWith('/') ? "list" : "get",
        [_, "events", ..] => "event",
        ["PUT" or "POST" or "DELETE" or "PATCH", ..] => "write",
        _ => "other kube " + request,
    };
}
