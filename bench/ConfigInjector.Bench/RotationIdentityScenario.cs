using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using ConfigInjector.Backends;
using ConfigInjector.Configuration;
using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Planning;
using ConfigInjector.Core.Policies;
using ConfigInjector.Kubernetes;
using ConfigInjector.ManagedSecrets;
using ConfigInjector.Observability;
using ConfigInjector.Policies;
using ConfigInjector.Sync;
using ConfigInjector.TestSupport.Fakes;
using k8s;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Prometheus;

namespace ConfigInjector.Bench;

/// <summary>
/// <c>identity: pod</c> against the webhook's own token, in one run: rotation passes over 10,000 managed Secrets
/// (<c>--secrets N</c>) owned by 500 service accounts in 20 namespaces, each Secret one of 500 refs, each service
/// account reading 20 of them. Counts logins, TokenRequests and Vault reads per pass, and wall time (medians of
/// <c>--rounds</c>): a replica's first pass (every service account logs in), later passes (tokens held), and a pass
/// right after Vault dropped every token (each replaced once per service account, not once per Secret).
/// Then <see cref="IdentityAdmissionLatency"/>.
/// </summary>
internal static class RotationIdentityScenario
{
    private const int ServiceAccounts = 500;
    private const int Namespaces = 20;
    private const int Refs = 500;

    private sealed record Pass(double Seconds, int Logins, int TokenRequests, int Reads, int Failed);

    public static async Task<string> RunAsync(BenchOptions options)
    {
        return await RotationAsync(options.Secrets, Math.Max(options.Rounds, 3)) + await IdentityAdmissionLatency.RunAsync();
    }

    private static async Task<string> RotationAsync(int secrets, int rounds)
    {
        await using var api = await KubeApiFake.StartAsync();
        await using var vault = await VaultFake.StartAsync();
        vault.EnableKv("secret", 2);
        vault.ConfigureKubernetesAuth("kubernetes", api.Address);
        for (var r = 0; r < Refs; r++)
            vault.Put($"secret/rot/ref-{r}", new Dictionary<string, string> { ["value"] = $"rot-value-{r}-v1" });
        for (var a = 0; a < ServiceAccounts; a++)
        {
            var (ns, sa) = Owner(a);
            api.AddServiceAccount(ns, sa);
            vault.AddKubernetesRole("kubernetes", $"{ns}-{sa}", [sa], [ns], "vault", TimeSpan.FromHours(1), ["secret/data/rot/"]);
        }
        var signingKey = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        var perAccount = Math.Max(1, secrets / ServiceAccounts);
        for (var i = 0; i < secrets; i++)
        {
            var r = i % Refs;
            var (ns, sa) = Owner(i / perAccount % ServiceAccounts);
            var model = ManagedSecretFactory.Create(new ManagedSecretSpec(
                $"configinjector-app-{i}", ns, new Dictionary<string, string> { ["TOKEN"] = $"rot-value-{r}-v1" },
                new Dictionary<string, KeySource> { ["TOKEN"] = new($"vault-bench:secret/rot/ref-{r}#value", "1") },
                new RotationSettings(TimeSpan.FromMinutes(5), RotationMode.None), null, sa), signingKey);
            api.Put("secrets", JsonNode.Parse(KubernetesJson.Serialize(model))!.AsObject());
        }

        var client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = api.Address.ToString() });
        var cluster = new KubernetesSyncCluster(client, new EventRecorder(client, TimeProvider.System, "bench", NullLogger<EventRecorder>.Instance));
        var list = (await client.CoreV1.ListSecretForAllNamespacesAsync(labelSelector: ManagedSecretFactory.ManagedBySelector)).Items;
        // The backends' own clock: moved on five minutes before the revocation pass, so the dropped tokens are not
        // fresh ones (a fresh token refused is the Vault policy's no, and is not replaced).
        var backendTime = new FakeTimeProvider(DateTimeOffset.UtcNow);

        RotationPass NewPass(string identityLines)
        {
            var metrics = new InjectorMetrics(Metrics.NewCustomRegistry());
            var tokenFile = Path.GetTempFileName();
            File.WriteAllText(tokenFile, VaultFake.RootToken);
            var config = ConfigFileReader.Parse($$"""
                backends:
                  - name: vault-bench
                    type: vault
                    address: {{vault.Address}}
                    caFile: {{vault.CaFile}}
                    kvVersion: "2"
                    timeout: 30s
                    retry: { attempts: 1 }
                    {{identityLines.Replace("TOKEN_FILE", tokenFile, StringComparison.Ordinal)}}
                """, "bench.yaml", "/");
            var context = new BackendContext(backendTime, NullLoggerFactory.Instance, new StaticVersionKey(signingKey)) { ServiceAccounts = new KubernetesServiceAccounts(client) };
            var reader = new SecretReader(BackendRegistry.Default.CreateAll(config, context), metrics, TimeSpan.FromSeconds(60));
            var restarter = new WorkloadRestarter(cluster, SyncSettings.Default, new FakeTimeProvider(), metrics, NullLogger<WorkloadRestarter>.Instance);
            var restarts = new RestartRecords(cluster, new StaticSigningKey(signingKey), restarter, TimeProvider.System, metrics, NullLogger<RestartRecords>.Instance);
            var policies = new StaticPolicySource(new SecretPolicy("bench", new PolicySubjects(["team-*"], null), [new PolicyRule("vault-bench", ["secret/rot/*"], null)], RotationSettings.Default, BackendErrorMode.Deny));
            return new RotationPass(cluster, reader, new SecretCache(reader, TimeProvider.System, TimeSpan.FromMinutes(5), metrics), new StaticSigningKey(signingKey), policies,
                new BackendLimiter(100_000), restarts, SyncSettings.Default, TimeProvider.System, metrics, NullLogger<RotationPass>.Instance);
        }

        async Task<Pass> Measure(RotationPass pass)
        {
            var (logins, tokens, reads) = (vault.Count("POST auth/kubernetes/login"), api.Count("POST serviceaccounts/token"), vault.Count("GET secret/data/rot/"));
            var started = Stopwatch.GetTimestamp();
            var results = await pass.RunAsync([.. list], CancellationToken.None);
            return new Pass(Stopwatch.GetElapsedTime(started).TotalSeconds, vault.Count("POST auth/kubernetes/login") - logins,
                api.Count("POST serviceaccounts/token") - tokens, vault.Count("GET secret/data/rot/") - reads, results.Count(r => r.Status != ReconcileStatus.Unchanged));
        }

        const string WebhookIdentity = "auth: { token: { file: TOKEN_FILE } }";
        const string PodIdentity = "identity: pod\n    auth: { kubernetes: { mount: kubernetes, audience: vault, roleTemplate: \"{namespace}-{serviceAccount}\" } }";
        var webhook = NewPass(WebhookIdentity);
        await Measure(webhook); // warm-up: JIT, TLS and connection pools
        var webhookPasses = new List<Pass>();
        var podFirst = new List<Pass>();
        var podHeld = new List<Pass>();
        var podRevoked = new List<Pass>();
        for (var round = 0; round < rounds; round++)
        {
            webhookPasses.Add(await Measure(webhook));
            var pod = NewPass(PodIdentity); // a replica that just started: no token held
            podFirst.Add(await Measure(pod));
            podHeld.Add(await Measure(pod));
            backendTime.Advance(TimeSpan.FromMinutes(5));
            vault.RevokeAll();
            podRevoked.Add(await Measure(pod));
        }

        string Row(string name, List<Pass> passes) => string.Create(CultureInfo.InvariantCulture,
            $"{name,-48} {Stats.Median(passes.Select(p => p.Seconds)),8:F2} {Stats.Median(passes.Select(p => (double)p.Logins)),8:F0} {Stats.Median(passes.Select(p => (double)p.TokenRequests)),14:F0} {Stats.Median(passes.Select(p => (double)p.Reads)),12:F0} {passes.Max(p => p.Failed),20}");
        var baseline = Stats.Median(webhookPasses.Select(p => p.Seconds));
        return string.Create(CultureInfo.InvariantCulture, $"""
            == rotation as the pod's service account: {secrets:N0} managed Secrets, {ServiceAccounts} service accounts in {Namespaces} namespaces, {Refs} refs (each service account reads {Math.Min(perAccount, Refs)}); medians of {rounds} passes
            pass                                               wall s   logins  TokenRequests   Vault GETs  not unchanged (max)
            {Row("webhook identity (one token, the baseline)", webhookPasses)}
            {Row("identity: pod, a replica's first pass", podFirst)}
            {Row("identity: pod, tokens held", podHeld)}
            {Row("identity: pod, after Vault dropped every token", podRevoked)}
            wall time ratio to the baseline: first pass {Stats.Median(podFirst.Select(p => p.Seconds)) / baseline:F2}, tokens held {Stats.Median(podHeld.Select(p => p.Seconds)) / baseline:F2}, after the drop {Stats.Median(podRevoked.Select(p => p.Seconds)) / baseline:F2}
            (identity: pod reads each ref once per service account that uses it, the webhook once per ref: that is the cost of the vault's own access rules;
            after the drop, the GETs refused with a dropped token and made again with the new one count twice)

            """);
    }

    private static (string Namespace, string ServiceAccount) Owner(int account) => ($"team-{account % Namespaces}", $"app-{account}");
}
