using System.Text.Json;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Builders;

namespace ConfigInjector.Tests.Admission;

/// <summary>What DESIGN.md §2 and §6 promise at the HTTP surface, through the real host over TLS.</summary>
public class AdmissionBehaviourTests(WebhookFixture fixture) : IClassFixture<WebhookFixture>
{
    [Fact]
    public async Task The_response_echoes_the_review_and_carries_a_base64_json_patch()
    {
        var uid = Guid.NewGuid().ToString();
        var body = AdmissionReviewBuilder.ForPod(PodBuilder.Injected().WithAnnotation("configinjector.io/secret.U", "dev:app/db#user").ToJson(), uid: uid);

        var review = await fixture.Server.ReviewAsync(body);

        using var document = JsonDocument.Parse(review.Body);
        Assert.Equal("admission.k8s.io/v1", document.RootElement.GetProperty("apiVersion").GetString());
        Assert.Equal("AdmissionReview", document.RootElement.GetProperty("kind").GetString());
        Assert.Equal(uid, review.Uid);
        Assert.True(review.Allowed);
        Assert.Equal("JSONPatch", review.PatchType);
        Assert.Equal(JsonValueKind.Array, JsonDocument.Parse(review.Patch!).RootElement.ValueKind);
    }

    [Fact]
    public async Task A_pod_that_did_not_opt_in_is_allowed_without_a_patch()
    {
        var review = await fixture.Server.ReviewPodAsync(PodBuilder.Create().WithContainer("app"));

        Assert.True(review.Allowed);
        Assert.Null(review.Patch);
        Assert.Empty(review.Warnings);
    }

    [Fact]
    public async Task A_pod_that_asks_for_values_without_opting_in_gets_a_warning()
    {
        var review = await fixture.Server.ReviewPodAsync(PodBuilder.Create().WithContainer("app").WithAnnotation("configinjector.io/secret.U", "dev:app/db#user"));

        Assert.True(review.Allowed);
        Assert.Null(review.Patch);
        Assert.Equal(["configinjector.io annotations are set but the pod is not opted in; add configinjector.io/inject: \"true\""], review.Warnings);
    }

    [Fact]
    public async Task Inject_false_opts_out()
    {
        var review = await fixture.Server.ReviewPodAsync(PodBuilder.Create().WithContainer("app")
            .WithAnnotation("configinjector.io/inject", "false").WithAnnotation("configinjector.io/secret.U", "dev:app/db#user"));

        Assert.True(review.Allowed);
        Assert.Null(review.Code);
        Assert.Null(review.Patch);
        Assert.Empty(review.Warnings);
    }

    [Fact]
    public async Task Inject_yes_is_a_warning_naming_the_closest_value()
    {
        var review = await fixture.Server.ReviewPodAsync(PodBuilder.Create().WithContainer("app").WithAnnotation("configinjector.io/inject", "yes"));

        Assert.True(review.Allowed);
        Assert.Null(review.Patch);
        Assert.Equal(["configinjector.io/inject: \"yes\" is not \"true\" or \"false\"; did you mean \"true\"? Treated as not set"], review.Warnings);
    }

    [Fact]
    public async Task A_ref_no_policy_allows_is_denied_with_403_naming_namespace_service_account_and_ref()
    {
        var pod = PodBuilder.Injected().WithServiceAccount("reporting").WithAnnotation("configinjector.io/secret.P", "dev:team-b/db#password");

        var review = await fixture.Server.ReviewPodAsync(pod);

        review.AssertDenied();
        Assert.Equal(403, review.Code);
        Assert.Equal("configinjector: namespace default, service account reporting: no SecretPolicy allows dev:team-b/db#password", review.Message);
    }

    [Fact]
    public async Task A_namespace_without_a_policy_is_denied()
    {
        var review = await fixture.Server.ReviewPodAsync(PodBuilder.Injected().InNamespace("payments").WithAnnotation("configinjector.io/secret.P", "dev:app/db#password"), "payments");

        review.AssertDenied();
        Assert.Equal("configinjector: namespace payments, service account default: no SecretPolicy allows dev:app/db#password", review.Message);
    }

    [Fact]
    public async Task A_malformed_ref_is_denied_with_a_message_quoting_the_annotation()
    {
        var review = await fixture.Server.ReviewPodAsync(PodBuilder.Injected().WithAnnotation("configinjector.io/secret.P", "dev:app/db#"));

        review.AssertDenied();
        Assert.Equal(403, review.Code);
        Assert.Equal("configinjector: configinjector.io/secret.P: \"dev:app/db#\": the key after '#' is empty", review.Message);
    }

    [Fact]
    public async Task A_missing_secret_is_denied()
    {
        var review = await fixture.Server.ReviewPodAsync(PodBuilder.Injected().WithAnnotation("configinjector.io/secret.P", "dev:app/nothing#x"));

        review.AssertDenied();
        Assert.Equal("configinjector: dev:app/nothing#x: not found: no path \"app/nothing\" in dev-secrets.yaml", review.Message);
    }

    [Fact]
    public async Task The_managed_secret_holds_the_values_and_dry_run_creates_nothing()
    {
        var pod = PodBuilder.Injected("dry-run-check").WithAnnotation("configinjector.io/secret.P", "dev:app/db#password");

        var dry = await fixture.Server.ReviewPodAsync(pod, dryRun: true);
        var secretName = PatchOracle.Apply(pod.ToJson(), dry.Patch!)["metadata"]!["annotations"]!["configinjector.io/managed-secret"]!.ToString();
        Assert.Null(fixture.Server.Secrets.Find("default", secretName));

        await fixture.Server.ReviewPodAsync(pod);
        var secret = fixture.Server.Secrets.Find("default", secretName);
        Assert.NotNull(secret);
        Assert.Equal("dev-only-db-password-7f3a", System.Text.Encoding.UTF8.GetString(secret.Data["P"]));
        Assert.Equal("config-injector", secret.Metadata.Labels["app.kubernetes.io/managed-by"]);
        Assert.Equal($$$"""{"P":{"ref":"dev:app/db#password","version":"{{{DevSecrets.Version("app/db")}}}"}}""", secret.Metadata.Annotations["configinjector.io/sources"]);
        Assert.Equal(("restart", "300s"), (secret.Metadata.Annotations["configinjector.io/on-change"], secret.Metadata.Annotations["configinjector.io/rotation-interval"]));
    }

    [Fact]
    public async Task A_denied_pod_creates_no_secret()
    {
        var before = fixture.Server.Secrets.Secrets.Count;

        var review = await fixture.Server.ReviewPodAsync(PodBuilder.Injected("denied").WithAnnotation("configinjector.io/secret.A", "dev:app/db#user").WithAnnotation("configinjector.io/secret.B", "dev:team-b/db#password"));

        review.AssertDenied("no SecretPolicy allows dev:team-b/db#password");
        Assert.Equal(before, fixture.Server.Secrets.Secrets.Count);
    }

    [Fact]
    public async Task Health_readiness_and_metrics_are_served()
    {
        await fixture.Server.ReviewPodAsync(PodBuilder.Injected().WithAnnotation("configinjector.io/secret.U", "dev:app/db#user"));

        Assert.Equal("ok\n", await fixture.Server.Client.GetStringAsync("/healthz"));
        Assert.Equal("ok\n", await fixture.Server.Client.GetStringAsync("/readyz"));
        var metrics = await fixture.Server.Client.GetStringAsync("/metrics");
        Assert.Contains("configinjector_admission_requests_total{result=\"injected\"}", metrics, StringComparison.Ordinal);
        Assert.Contains("configinjector_admission_duration_seconds_bucket", metrics, StringComparison.Ordinal);
        Assert.Contains("configinjector_backend_requests_total{backend=\"dev\",result=\"found\"}", metrics, StringComparison.Ordinal);
        Assert.Contains("configinjector_backend_duration_seconds_bucket{backend=\"dev\"", metrics, StringComparison.Ordinal);
        Assert.Contains("configinjector_cache_hits_total", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Denials_and_cache_hits_are_counted()
    {
        static double Value(string metrics, string name) => double.Parse(
            metrics.Split('\n').Single(l => l.StartsWith(name + " ", StringComparison.Ordinal)).Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var before = await fixture.Server.Client.GetStringAsync("/metrics");

        await fixture.Server.ReviewPodAsync(PodBuilder.Injected().WithAnnotation("configinjector.io/secret.P", "dev:team-b/db#password"));
        await fixture.Server.ReviewPodAsync(PodBuilder.Injected().WithAnnotation("configinjector.io/secret.U", "dev:app/db#user"));
        await fixture.Server.ReviewPodAsync(PodBuilder.Injected().WithAnnotation("configinjector.io/secret.U", "dev:app/db#user"));
        var after = await fixture.Server.Client.GetStringAsync("/metrics");

        Assert.Equal(1, Value(after, "configinjector_policy_denials_total") - Value(before, "configinjector_policy_denials_total"));
        Assert.True(Value(after, "configinjector_cache_hits_total") - Value(before, "configinjector_cache_hits_total") >= 1);
    }

    [Fact]
    public async Task Plain_http_is_not_served()
    {
        var address = new UriBuilder(fixture.Server.Client.BaseAddress!) { Scheme = "http" }.Uri;
        using var plain = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => plain.GetAsync(new Uri(address, "/healthz")));
    }

    [Fact]
    public async Task Every_decision_is_an_audit_line_without_values()
    {
        await fixture.Server.ReviewPodAsync(PodBuilder.Injected("audited").WithServiceAccount("auditor").WithAnnotation("configinjector.io/secret.P", "dev:team-b/db#password"));

        var line = fixture.Server.Logs.Collector.GetSnapshot().Last(r => r.Category == "ConfigInjector.Audit" && r.Message.Contains("\"pod\":\"audited\"", StringComparison.Ordinal)).Message;
        using var audit = JsonDocument.Parse(line);
        Assert.Equal("denied", audit.RootElement.GetProperty("decision").GetString());
        Assert.Equal("auditor", audit.RootElement.GetProperty("serviceAccount").GetString());
        Assert.Contains("no SecretPolicy allows dev:team-b/db#password", audit.RootElement.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal(["dev:team-b/db#password"], audit.RootElement.GetProperty("refs").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal("test-user", audit.RootElement.GetProperty("user").GetString());

        await fixture.Server.ReviewPodAsync(PodBuilder.Injected("audited-ok").WithAnnotation("configinjector.io/secret.P", "dev:app/db#password"));
        var allowed = fixture.Server.Logs.Collector.GetSnapshot().Last(r => r.Category == "ConfigInjector.Audit" && r.Message.Contains("\"pod\":\"audited-ok\"", StringComparison.Ordinal)).Message;
        using var allowedAudit = JsonDocument.Parse(allowed);
        Assert.Equal("allowed", allowedAudit.RootElement.GetProperty("decision").GetString());
        Assert.Equal(["dev-apps/rules[0]"], allowedAudit.RootElement.GetProperty("rules").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(["dev:app/db#password"], allowedAudit.RootElement.GetProperty("refs").EnumerateArray().Select(r => r.GetString()));
        var auditLines = fixture.Server.Logs.Collector.GetSnapshot().Where(r => r.Category == "ConfigInjector.Audit").Select(r => r.Message).ToList();
        foreach (var value in DevSecrets.Values())
            Assert.DoesNotContain(auditLines, l => l.Contains(value, StringComparison.Ordinal) || l.Contains(Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(value)), StringComparison.Ordinal));
    }
}
