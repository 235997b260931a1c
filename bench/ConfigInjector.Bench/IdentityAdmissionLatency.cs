using System.Diagnostics;
using System.Globalization;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Builders;

namespace ConfigInjector.Bench;

/// <summary>
/// Admission latency with <c>identity: pod</c> against the webhook's own token, in one run: two replicas of the real
/// serve host over HTTPS, one of each, on the same API server fake and Vault fake, admitting the pods of 100 service
/// accounts one at a time, interleaved. Per service account: its first pod (pod identity: TokenRequest, login and read;
/// webhook identity: a read), a second pod naming another ref (token held: a read), a third naming the first ref again
/// (from the cache).
/// </summary>
internal static class IdentityAdmissionLatency
{
    private const int ServiceAccounts = 100;

    public static async Task<string> RunAsync()
    {
        await using var cluster = await ClusterEnvironment.StartAsync();
        var vault = cluster.Vault;
        vault.ConfigureKubernetesAuth("kubernetes", cluster.Api.Address);
        for (var a = -1; a < ServiceAccounts; a++)
        {
            var sa = a < 0 ? "warm-up" : $"sa-{a}";
            cluster.Api.AddServiceAccount("shop", sa);
            vault.AddKubernetesRole("kubernetes", $"shop-{sa}", [sa], ["shop"], "vault", TimeSpan.FromHours(1), ["secret/data/shop/"]);
            // Each replica reads its own refs, so neither warms the other's cache.
            foreach (var replica in new[] { "webhook", "pod" })
            {
                vault.Put($"secret/shop/{replica}/{sa}/first", new Dictionary<string, string> { ["value"] = "bench-only-first" });
                vault.Put($"secret/shop/{replica}/{sa}/second", new Dictionary<string, string> { ["value"] = "bench-only-second" });
            }
        }
        // No rotation due during the run: the leader's passes would only add noise.
        const string Rotation = "{ interval: 1h, onChange: none }";
        var webhook = await cluster.StartReplicaAsync(identity: "bench-webhook", cacheTtl: "5m", rotation: Rotation);
        var pod = await cluster.StartReplicaAsync(identity: "bench-pod", cacheTtl: "5m", rotation: Rotation, vaultAuth: ClusterEnvironment.PodIdentityAuth);

        var samples = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        var failures = 0;
        async Task Admit(WebhookServer server, string replica, string sa, string step, string which)
        {
            var reference = $"vault-prod:secret/shop/{replica}/{sa}/{which}#value";
            var builder = PodBuilder.Injected($"{replica}-{sa}-{step}").InNamespace("shop").WithServiceAccount(sa).WithAnnotation("configinjector.io/secret.VALUE", reference);
            var started = Stopwatch.GetTimestamp();
            var review = await server.ReviewPodAsync(builder, "shop");
            var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (!review.Allowed)
                failures++;
            if (sa != "warm-up")
            {
                var key = $"{replica} {step}";
                if (!samples.TryGetValue(key, out var list))
                    samples[key] = list = [];
                list.Add(ms);
            }
        }

        var logins = vault.Count("POST auth/kubernetes/login");
        var tokens = cluster.Api.Count("POST serviceaccounts/token");
        for (var a = -1; a < ServiceAccounts; a++)
        {
            var sa = a < 0 ? "warm-up" : $"sa-{a}";
            foreach (var (server, replica) in a % 2 == 0 ? new[] { (webhook, "webhook"), (pod, "pod") } : [(pod, "pod"), (webhook, "webhook")])
            {
                await Admit(server, replica, sa, "cold", "first");
                await Admit(server, replica, sa, "warm", "second");
                await Admit(server, replica, sa, "cached", "first");
            }
        }
        logins = vault.Count("POST auth/kubernetes/login") - logins;
        tokens = cluster.Api.Count("POST serviceaccounts/token") - tokens;

        string Row(string step, string what)
        {
            var w = samples[$"webhook {step}"].Order().ToArray();
            var p = samples[$"pod {step}"].Order().ToArray();
            var (wm, pm) = (Stats.Median(w), Stats.Median(p));
            return string.Create(CultureInfo.InvariantCulture,
                $"{what,-58} {wm,9:F2} {Stats.Percentile(w, 0.9),7:F2} {pm,9:F2} {Stats.Percentile(p, 0.9),7:F2} {pm / wm,8:F2}");
        }
        return string.Create(CultureInfo.InvariantCulture, $"""
            == admission latency, identity: pod vs the webhook's token ({ServiceAccounts} service accounts, 3 pods each, one at a time, real host over HTTPS)
                                                               webhook identity    identity: pod      ratio
            pod                                                        median ms  p90 ms  median ms  p90 ms  pod/webhook
            {Row("cold", "first of its service account (pod: +TokenRequest, login)")}
            {Row("warm", "second, another ref (pod: token held)")}
            {Row("cached", "third, the first ref again (cache)")}
            identity: pod made {logins} logins and {tokens} TokenRequests for {ServiceAccounts + 1} service accounts; admissions not allowed: {failures}

            """);
    }
}
