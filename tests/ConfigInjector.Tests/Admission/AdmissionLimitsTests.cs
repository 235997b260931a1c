using System.Net;
using System.Text.Json;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Builders;
using ConfigInjector.TestSupport.Fakes;

namespace ConfigInjector.Tests.Admission;

/// <summary>The admission deadline, what a denial may say about a path, and the audit line of an early denial.</summary>
public class AdmissionLimitsTests
{
    [Fact]
    public async Task An_admission_that_outlives_its_deadline_is_answered_as_an_error_at_the_deadline()
    {
        // Backend reads share a timeout under the deadline (3/4 of it), so here the managed Secret's write is what
        // stalls. 2 s, not less: a cold first read (TLS, login) on a loaded machine must finish within its 1.5 s.
        await using var cluster = await ClusterEnvironment.StartAsync();
        var server = await cluster.StartReplicaAsync(settings: s => s with { AdmissionTimeout = TimeSpan.FromSeconds(2) });
        cluster.Api.CreateDelay = TimeSpan.FromSeconds(20);
        var rs = cluster.Api.AddDeployment("shop", "web");

        var result = await server.ReviewPodAsync(ClusterEnvironment.PodOf(rs).WithAnnotation("configinjector.io/secret.DB_PASSWORD", "vault-prod:secret/shop/db#password"), "shop");

        Assert.Equal(HttpStatusCode.OK, result.HttpStatus);
        Assert.False(result.Allowed);
        Assert.Equal((500, "configinjector: the admission did not finish within 2s"), (result.Code, result.Message));
        Assert.Contains("stopped at its 2s deadline", server.AllLogText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Many_refs_on_a_slow_backend_are_answered_before_the_deadline_with_the_backends_error()
    {
        await using var vault = await VaultFake.StartAsync();
        vault.EnableKv("secret", 2);
        vault.Delay = TimeSpan.FromSeconds(20);
        await using var server = await VaultWebhook.StartAsync(vault, ["timeout: 30s"], configTail: "webhook: { admissionTimeout: 4s }\n");
        // 40 paths are read 16 at a time; all of them share one read timeout (3/4 of the deadline), which leaves the
        // answer a second to spare however loaded this machine is.
        var pod = PodBuilder.Injected();
        for (var i = 0; i < 40; i++)
            pod = pod.WithAnnotation($"configinjector.io/secret.P{i}", $"vault-prod:secret/app/db{i}#password");

        var result = await server.ReviewPodAsync(pod);

        Assert.False(result.Allowed);
        Assert.Equal(403, result.Code);
        Assert.Contains("backend error: timed out after 3s", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_slow_backend_under_allow_stale_is_answered_with_the_last_known_good_value_before_the_deadline()
    {
        await using var vault = await VaultFake.StartAsync();
        vault.EnableKv("secret", 2);
        vault.Put("secret/app/db", new Dictionary<string, string> { ["password"] = "stale-but-good-value" });
        await using var server = await VaultWebhook.StartAsync(vault, ["timeout: 30s"], onBackendError: "allow-stale", configTail: "cache: { ttl: 10ms }\nwebhook: { admissionTimeout: 4s }\n");
        var pod = PodBuilder.Injected().WithAnnotation("configinjector.io/secret.P", "vault-prod:secret/app/db#password");
        Assert.True((await server.ReviewPodAsync(pod)).Allowed);
        vault.Delay = TimeSpan.FromSeconds(20);
        await Task.Delay(50);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = await server.ReviewPodAsync(pod);
        clock.Stop();

        Assert.True(result.Allowed, result.Message);
        Assert.Contains(result.Warnings, w => w.Contains("using the last-known-good value (onBackendError: allow-stale)", StringComparison.Ordinal));
        // Allowed at all means before the deadline (past it the answer is a 500); and not after Vault's 20 s.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"answered after {clock.Elapsed}");
    }

    [Fact]
    public async Task A_missing_key_names_only_the_keys_the_pod_may_read()
    {
        await using var server = await WebhookServer.StartAsync(work =>
        {
            File.AppendAllText(Path.Combine(work, "examples", "dev-secrets.yaml"), "\nops/db:\n  user: ops-user\n  root-password: ops-root-value\n");
            File.WriteAllText(Path.Combine(work, "examples", "policies", "ops.yaml"), """
                apiVersion: configinjector.io/v1alpha1
                kind: SecretPolicy
                metadata: { name: ops }
                spec:
                  subjects: { namespaces: [ops] }
                  rules: [ { backend: dev, paths: ["ops/db"], keys: [user, port] } ]
                """);
        });

        var result = await server.ReviewPodAsync(PodBuilder.Injected().WithAnnotation("configinjector.io/secret.PORT", "dev:ops/db#port"), "ops");

        result.AssertDenied();
        Assert.Equal("configinjector: dev:ops/db#port: the path has no key \"port\" (you may read: user)", result.Message);
    }

    [Fact]
    public async Task The_audit_line_of_an_early_denial_lists_inline_and_profile_refs_too()
    {
        await using var server = await WebhookServer.StartAsync();
        var pod = PodBuilder.Create("early").WithLabel("tier", "backend")
            .WithAnnotation("configinjector.io/inject", "true")
            .WithAnnotation("configinjector.io/secret.BAD", "dev:app/db#")
            .WithContainer("app", ("API_TOKEN", "configinjector:dev:app/api#token"));

        var result = await server.ReviewPodAsync(pod);

        result.AssertDenied();
        var line = server.Logs.Collector.GetSnapshot().Last(r => r.Category == "ConfigInjector.Audit" && r.Message.Contains("\"pod\":\"early\"", StringComparison.Ordinal)).Message;
        using var audit = JsonDocument.Parse(line);
        Assert.Equal(["dev:app/api#token", "dev:shared/sentry#dsn"], audit.RootElement.GetProperty("refs").EnumerateArray().Select(r => r.GetString()));
    }

    /// <summary>A body that arrives a few bytes at a time, slower than the deadline but faster than Kestrel's minimum rate.</summary>
    private sealed class TrickleContent(string body) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(body);
            for (var i = 0; i < bytes.Length; i += 64)
            {
                await stream.WriteAsync(bytes.AsMemory(i, Math.Min(64, bytes.Length - i)));
                await stream.FlushAsync();
                await Task.Delay(100);
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = System.Text.Encoding.UTF8.GetByteCount(body);
            return true;
        }
    }

    [Fact]
    public async Task A_body_that_trickles_past_the_deadline_is_cut_off_not_answered_with_a_500()
    {
        await using var server = await WebhookServer.StartAsync(work =>
        {
            Directory.CreateDirectory(Path.Combine(work, "config"));
            File.WriteAllText(Path.Combine(work, "config", "injector.yaml"), "backends:\n  - name: dev\n    type: file\n    path: ../examples/dev-secrets.yaml\nwebhook: { admissionTimeout: 500ms }\n");
        }, settings: s => s with { ConfigFile = "config/injector.yaml" });
        var body = AdmissionReviewBuilder.ForPod(PodBuilder.Injected().WithAnnotation("configinjector.io/secret.P", "dev:app/db#password"));

        // The connection is closed at the deadline: the client sees it fail; the webhook logs one line, no 500.
        await Assert.ThrowsAsync<HttpRequestException>(() => server.Client.PostAsync("/mutate-pods", new TrickleContent(body) { Headers = { ContentType = new("application/json") } }));

        await Eventually.TrueAsync(() => server.AllLogText().Contains("rejected an admission request with HTTP 408: the request body did not arrive within the admission deadline; connection closed", StringComparison.Ordinal), "the log line");
        Assert.True(!server.AllLogText().Contains("   at ", StringComparison.Ordinal), server.AllLogText());
        Assert.Contains("configinjector_admission_requests_total{result=\"bad_request\"} 1", await server.Client.GetStringAsync("/metrics"), StringComparison.Ordinal);
    }
}
