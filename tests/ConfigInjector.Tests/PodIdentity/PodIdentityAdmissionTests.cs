using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Builders;
using ConfigInjector.TestSupport.Fakes;

namespace ConfigInjector.Tests.PodIdentity;

/// <summary>
/// <c>identity: pod</c> at admission, through the real <c>serve</c> host against the API server fake (which issues
/// service-account tokens) and the Vault fake (whose Kubernetes auth reviews them with that API server and gives each
/// role its own policy): both the SecretPolicy and the vault must allow, and nothing read as one service account is
/// served to another. The cluster's dispose scans every log and Event for values and for every token handed out.
/// </summary>
public sealed class PodIdentityAdmissionTests : IAsyncLifetime
{
    private const string Ref = "vault-prod:secret/shop/db#password";
    private ClusterEnvironment _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = await ClusterEnvironment.StartAsync();
        PodIdentityChecks.AddCheckoutAndIntruder(_cluster);
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private Task<WebhookServer> StartAsync(string onBackendError = "deny", string cacheTtl = "5m") =>
        _cluster.StartReplicaAsync(onBackendError: onBackendError, cacheTtl: cacheTtl, vaultAuth: ClusterEnvironment.PodIdentityAuth);

    private static PodBuilder Pod(string serviceAccount, string reference = Ref) =>
        PodBuilder.Injected(serviceAccount).InNamespace("shop").WithServiceAccount(serviceAccount).WithAnnotation("configinjector.io/secret.DB_PASSWORD", reference);

    [Fact]
    public async Task When_the_policy_and_the_vault_both_allow_the_pod_is_injected_with_what_its_own_service_account_read()
    {
        var server = await StartAsync();

        var review = await server.ReviewPodAsync(Pod("checkout"), "shop");

        Assert.True(review.Allowed, review.Message);
        Assert.Equal(["shop-checkout secret/data/shop/db"], _cluster.Vault.ReadsByRole);
        // One TokenRequest: the vault's audience, ten minutes, the pod's namespace and service account in its claims.
        PodIdentityChecks.AssertOneTokenFor(_cluster.Api, "vault", "system:serviceaccount:shop:checkout");
    }

    [Theory]
    [MemberData(nameof(PodIdentityChecks.OnBackendErrorModes), MemberType = typeof(PodIdentityChecks))]
    public async Task The_vault_refusing_the_service_account_denies_the_pod_in_every_mode_naming_the_service_account_the_role_and_the_ref(string onBackendError)
    {
        var server = await StartAsync(onBackendError);
        // Read once as checkout: a last-known-good of this very location exists, for checkout only.
        Assert.True((await server.ReviewPodAsync(Pod("checkout"), "shop")).Allowed);

        var review = await server.ReviewPodAsync(Pod("intruder"), "shop");

        review.AssertDenied(Ref);
        Assert.Contains("service account shop/intruder", review.Message);
        Assert.Contains("Vault role shop-intruder", review.Message);
        Assert.Contains("permission denied", review.Message);
    }

    [Fact]
    public async Task A_value_read_as_one_service_account_is_never_served_to_another_even_from_a_warm_cache()
    {
        var server = await StartAsync(cacheTtl: "1h");
        Assert.True((await server.ReviewPodAsync(Pod("checkout"), "shop")).Allowed);

        // At the same moment, the same ref: intruder gets the vault's answer for intruder, not checkout's cached value.
        var reviews = await Task.WhenAll(server.ReviewPodAsync(Pod("intruder"), "shop"), server.ReviewPodAsync(Pod("checkout"), "shop"));

        reviews[0].AssertDenied("service account shop/intruder");
        Assert.True(reviews[1].Allowed, reviews[1].Message);
        Assert.Contains("shop-intruder secret/data/shop/db", _cluster.Vault.ReadsByRole);
    }

    [Fact]
    public async Task The_vault_allowing_is_not_enough_when_no_secret_policy_allows()
    {
        _cluster.Vault.AddKubernetesRole("kubernetes", "other-checkout", ["checkout"], ["other"], "vault", TimeSpan.FromHours(1), ["secret/data/shop/"]);
        _cluster.Api.AddServiceAccount("other", "checkout");
        var server = await StartAsync();

        var review = await server.ReviewPodAsync(Pod("checkout").InNamespace("other"), "other");

        review.AssertDenied("no SecretPolicy allows");
        Assert.Equal(0, _cluster.Api.Count("POST serviceaccounts/token"));
    }

    [Fact]
    public async Task A_service_account_that_does_not_exist_is_refused_by_name_even_when_errors_are_skipped()
    {
        var server = await StartAsync("skip");

        var review = await server.ReviewPodAsync(Pod("ghost"), "shop");

        review.AssertDenied("service account shop/ghost does not exist");
    }

    [Fact]
    public async Task An_unreachable_vault_follows_onBackendError()
    {
        var server = await StartAsync("skip");
        await _cluster.Vault.StopAsync();

        var review = await server.ReviewPodAsync(Pod("checkout"), "shop");

        Assert.True(review.Allowed, review.Message);
        Assert.Contains(review.Warnings, w => w.Contains("onBackendError: skip", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_thousand_concurrent_admissions_of_one_service_account_make_one_token_request_one_login_and_one_read_per_path()
    {
        _cluster.Vault.Put("secret/shop/api", new Dictionary<string, string> { ["key"] = "cluster-only-api-key" });
        // A thousand TLS handshakes at once load a small machine: Vault gets the read budget's full five seconds.
        var server = await _cluster.StartReplicaAsync(cacheTtl: "5m", vaultAuth: "timeout: 5s\n    " + ClusterEnvironment.PodIdentityAuth);
        var pod = Pod("checkout").WithAnnotation("configinjector.io/secret.API_KEY", "vault-prod:secret/shop/api#key");

        var reviews = await Task.WhenAll(Enumerable.Range(0, 1000).Select(_ => server.ReviewPodAsync(pod, "shop", dryRun: true)));

        Assert.All(reviews, r => Assert.True(r.Allowed, r.Message));
        Assert.Equal(1, _cluster.Api.Count("POST serviceaccounts/token"));
        Assert.Equal(1, _cluster.Vault.Count("POST auth/kubernetes/login"));
        Assert.Equal(1, _cluster.Vault.Count("GET secret/data/shop/db"));
        Assert.Equal(1, _cluster.Vault.Count("GET secret/data/shop/api"));
    }

    [Fact]
    public async Task The_sync_worker_rotates_as_the_service_account_the_managed_secret_records()
    {
        // The webhook holds no Vault credential at all: a rotated value can only have been read as the pod's service account.
        var server = await StartAsync(cacheTtl: "1s");
        var rs = _cluster.Api.AddDeployment("shop", "checkout");
        var pod = ClusterEnvironment.PodOf(rs).WithServiceAccount("checkout").WithAnnotation("configinjector.io/secret.DB_PASSWORD", Ref);
        var name = await _cluster.AdmitAsync(server, pod, "checkout-1");

        _cluster.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "cluster-only-password-v2", ["user"] = "shop" });

        await Eventually.TrueAsync(() => ClusterEnvironment.SecretValue(_cluster.Api.Get("secrets", "shop", name), "DB_PASSWORD") == "cluster-only-password-v2", "the Secret to be rotated");
        Assert.All(_cluster.Vault.ReadsByRole, r => Assert.Equal("shop-checkout secret/data/shop/db", r));
        Assert.True(_cluster.Vault.ReadsByRole.Count >= 2, "admission's read and the rotation's");
    }

    [Fact]
    public async Task A_service_account_vault_will_not_log_in_is_refused_at_login_naming_the_role()
    {
        _cluster.Api.AddServiceAccount("shop", "stranger");
        var server = await StartAsync("skip");

        var review = await server.ReviewPodAsync(Pod("stranger"), "shop");

        review.AssertDenied("service account shop/stranger (Vault role shop-stranger)");
        Assert.Contains("invalid role name", review.Message);
    }

    [Fact]
    public async Task The_vault_role_annotation_of_the_service_account_names_the_role_it_logs_in_as()
    {
        _cluster.Vault.AddKubernetesRole("kubernetes", "shared-reader", ["batch"], ["shop"], "vault", TimeSpan.FromHours(1), ["secret/data/shop/"]);
        _cluster.Api.AddServiceAccount("shop", "batch", new Dictionary<string, string> { ["configinjector.io/vault-role"] = "shared-reader" });
        var server = await StartAsync();

        var review = await server.ReviewPodAsync(Pod("batch"), "shop");

        Assert.True(review.Allowed, review.Message);
        Assert.Equal(["shared-reader secret/data/shop/db"], _cluster.Vault.ReadsByRole);
    }
}
