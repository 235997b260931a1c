using ConfigInjector.Backends.AzureKeyVault;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Builders;
using ConfigInjector.TestSupport.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace ConfigInjector.Tests.PodIdentity;

/// <summary>
/// <c>identity: pod</c> for Azure Key Vault at admission, through the real <c>serve</c> host: the API server fake issues
/// the service account's token (audience <c>api://AzureADTokenExchange</c>), the Entra fake exchanges it only under a
/// federated credential trusting that service account, and Key Vault lets each client id read only with a role
/// assignment. Every test ends with the log, the Events and the answers scanned for values and for every token handed out.
/// </summary>
public sealed class KeyVaultPodIdentityTests : IAsyncLifetime
{
    private const string Ref = "kv-prod:db-password";
    private const string CheckoutClient = "11111111-0000-4000-8000-00000000c0de";
    private const string IntruderClient = "22222222-0000-4000-8000-0000000bad00";
    private KubeApiFake _api = null!;
    private KeyVaultFake _keyVault = null!;
    private readonly List<WebhookServer> _servers = [];
    private readonly List<ReviewResult> _reviews = [];

    public async Task InitializeAsync()
    {
        _api = await KubeApiFake.StartAsync();
        _keyVault = await KeyVaultFake.StartAsync();
        _keyVault.Set("db-password", "kv-only-password-71c3");
        _keyVault.Set("db-user", "kv-only-user-71c3");
        _keyVault.AddFederatedIdentity(CheckoutClient, "shop", "checkout", mayRead: true);
        _keyVault.AddFederatedIdentity(IntruderClient, "shop", "intruder", mayRead: false);
        _api.AddServiceAccount("shop", "checkout", new Dictionary<string, string> { ["azure.workload.identity/client-id"] = CheckoutClient });
        _api.AddServiceAccount("shop", "intruder", new Dictionary<string, string> { ["azure.workload.identity/client-id"] = IntruderClient });
    }

    public async Task DisposeAsync()
    {
        var tokens = _api.IssuedTokens.Concat(_keyVault.IssuedAccessTokens).ToList();
        foreach (var server in _servers)
        {
            server.AssertNoValueInLogs("kv-only-");
            foreach (var token in tokens)
                server.AssertNoValueInLogs(token);
        }
        Assert.DoesNotContain(_api.All("events"), e => e.ToJsonString().Contains("kv-only-", StringComparison.Ordinal) || tokens.Any(t => e.ToJsonString().Contains(t, StringComparison.Ordinal)));
        Assert.DoesNotContain(_reviews, r => r.Body.Contains("kv-only-", StringComparison.Ordinal) || tokens.Any(t => r.Body.Contains(t, StringComparison.Ordinal)));
        foreach (var server in _servers)
            await server.DisposeAsync();
        await _keyVault.DisposeAsync();
        await _api.DisposeAsync();
    }

    /// <param name="time">The host's clock (default: the system's).</param>
    private async Task<WebhookServer> StartAsync(string onBackendError = "deny", string cacheTtl = "5m", string extra = "", TimeProvider? time = null)
    {
        var server = await WebhookServer.StartAsync(workDir =>
        {
            Directory.CreateDirectory(Path.Combine(workDir, "config"));
            File.WriteAllText(Path.Combine(workDir, "config", "injector.yaml"), _keyVault.PodIdentityBackendConfig("kv-prod", extra) + $"cache: {{ ttl: {cacheTtl} }}\n");
            File.WriteAllText(Path.Combine(workDir, "examples", "policies", "shop.yaml"), PodIdentityChecks.ShopPolicy("kv-prod", "db-*", onBackendError));
        }, settings: s => s with
        {
            Kubeconfig = _api.WriteKubeconfig(s.WorkingDirectory),
            LeaseIdentity = new ConfigInjector.Sync.LeaseIdentity("config-injector", "replica-a"),
            PoliciesFolder = Path.Combine(s.WorkingDirectory, "examples", "policies"),
            Time = time ?? s.Time,
        });
        _servers.Add(server);
        return server;
    }

    private async Task<ReviewResult> ReviewAsync(WebhookServer server, PodBuilder pod, bool dryRun = false)
    {
        var review = await server.ReviewPodAsync(pod, "shop", dryRun: dryRun);
        lock (_reviews)
            _reviews.Add(review);
        return review;
    }

    private static PodBuilder Pod(string serviceAccount, string reference = Ref) =>
        PodBuilder.Injected(serviceAccount).InNamespace("shop").WithServiceAccount(serviceAccount).WithAnnotation("configinjector.io/secret.DB_PASSWORD", reference);

    [Fact]
    public async Task When_the_policy_and_key_vault_both_allow_the_pod_is_injected_with_what_its_own_client_id_read()
    {
        var server = await StartAsync();

        var review = await ReviewAsync(server, Pod("checkout"));

        Assert.True(review.Allowed, review.Message);
        Assert.Equal([$"{CheckoutClient} db-password"], _keyVault.ReadsByClient);
        // The token Entra exchanged: the exchange audience, ten minutes, the pod's namespace and service account.
        PodIdentityChecks.AssertOneTokenFor(_api, KeyVaultFake.TokenExchangeAudience, "system:serviceaccount:shop:checkout");
    }

    [Theory]
    [MemberData(nameof(PodIdentityChecks.OnBackendErrorModes), MemberType = typeof(PodIdentityChecks))]
    public async Task Key_vault_refusing_the_service_account_denies_the_pod_in_every_mode_naming_the_service_account_and_the_ref(string onBackendError)
    {
        var server = await StartAsync(onBackendError);
        // Read once as checkout: a last-known-good of this very location exists, for checkout only.
        Assert.True((await ReviewAsync(server, Pod("checkout"))).Allowed);

        var review = await ReviewAsync(server, Pod("intruder"));

        review.AssertDenied(Ref);
        Assert.Contains($"service account shop/intruder (client id {IntruderClient})", review.Message);
        Assert.Contains("ForbiddenByRbac", review.Message);
    }

    [Fact]
    public async Task A_value_read_as_one_service_account_is_never_served_to_another_even_from_a_warm_cache()
    {
        var server = await StartAsync(cacheTtl: "1h");
        Assert.True((await ReviewAsync(server, Pod("checkout"))).Allowed);

        var reviews = await Task.WhenAll(ReviewAsync(server, Pod("intruder")), ReviewAsync(server, Pod("checkout")));

        reviews[0].AssertDenied("service account shop/intruder");
        Assert.True(reviews[1].Allowed, reviews[1].Message);
        Assert.Equal(1, _keyVault.Count($"GET forbidden db-password as {IntruderClient}"));
        Assert.Equal([$"{CheckoutClient} db-password"], _keyVault.ReadsByClient);
    }

    [Fact]
    public async Task A_service_account_without_a_client_id_annotation_is_refused_naming_it_and_the_annotation_even_when_errors_are_skipped()
    {
        _api.AddServiceAccount("shop", "plain");
        var server = await StartAsync("skip");

        var review = await ReviewAsync(server, Pod("plain"));

        review.AssertDenied("service account shop/plain has no azure.workload.identity/client-id annotation");
        Assert.Equal(0, _api.Count("POST serviceaccounts/token"));
        Assert.Equal(0, _keyVault.Count("POST token"));
    }

    [Fact]
    public async Task Entra_refusing_the_exchange_denies_the_pod_with_its_reason()
    {
        // The client id exists, but its federated credential trusts another service account.
        _api.AddServiceAccount("shop", "borrower", new Dictionary<string, string> { ["azure.workload.identity/client-id"] = CheckoutClient });
        var server = await StartAsync("skip");

        var review = await ReviewAsync(server, Pod("borrower"));

        review.AssertDenied($"Entra refused service account shop/borrower (client id {CheckoutClient})");
        Assert.Contains("AADSTS700213", review.Message);
    }

    [Fact]
    public async Task A_tenant_id_annotation_naming_another_tenant_than_the_vaults_denies_the_pod_even_when_errors_are_skipped()
    {
        const string OtherTenant = "99999999-0000-4000-8000-0000000000aa";
        _api.AddServiceAccount("shop", "elsewhere", new Dictionary<string, string>
        {
            ["azure.workload.identity/client-id"] = CheckoutClient,
            ["azure.workload.identity/tenant-id"] = OtherTenant,
        });
        var server = await StartAsync("skip");

        var review = await ReviewAsync(server, Pod("elsewhere"));

        // A mistake in the service account, not an outage: skipping the ref would start the pod without its secret.
        review.AssertDenied($"service account shop/elsewhere (client id {CheckoutClient}) cannot read this vault: it is in tenant {KeyVaultFake.TenantId}");
        Assert.Equal(0, _keyVault.Count("POST token"));
    }

    [Fact]
    public async Task Concurrent_admissions_of_one_service_account_make_one_token_request_and_one_exchange()
    {
        var server = await StartAsync();
        var pod = Pod("checkout").WithAnnotation("configinjector.io/secret.DB_USER", "kv-prod:db-user");

        var reviews = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => ReviewAsync(server, pod, dryRun: true)));

        Assert.All(reviews, r => Assert.True(r.Allowed, r.Message));
        Assert.Equal((1, 1, 1), (_api.Count("GET serviceaccounts"), _api.Count("POST serviceaccounts/token"), _keyVault.Count("POST token")));
        Assert.Equal(1, _keyVault.ReadsByClient.Count(r => r.EndsWith(" db-password", StringComparison.Ordinal)));
        Assert.Equal(1, _keyVault.ReadsByClient.Count(r => r.EndsWith(" db-user", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task The_webhook_own_credential_settings_are_refused_with_identity_pod()
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => StartAsync(extra: "clientId: " + CheckoutClient));

        Assert.Contains("identity: pod reads with the client id each service account names (azure.workload.identity/client-id); remove clientId", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_service_account_pointed_at_another_client_id_is_admitted_with_that_one_once_its_annotations_are_due_again()
    {
        const string Repointed = "44444444-0000-4000-8000-00000000beef";
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var server = await StartAsync(cacheTtl: "30s", time: clock);
        Assert.True((await ReviewAsync(server, Pod("checkout"), dryRun: true)).Allowed);
        _keyVault.AddFederatedIdentity(Repointed, "shop", "checkout", mayRead: true);
        _api.Update("serviceaccounts", "shop", "checkout", sa => sa["metadata"]!["annotations"]![ServiceAccountClients.ClientIdAnnotation] = Repointed);
        clock.Advance(ServiceAccountClients.AnnotationsFreshFor);

        var review = await ReviewAsync(server, Pod("checkout"), dryRun: true);

        Assert.True(review.Allowed, review.Message);
        Assert.Equal([$"{CheckoutClient} db-password", $"{Repointed} db-password"], _keyVault.ReadsByClient);
    }
}
