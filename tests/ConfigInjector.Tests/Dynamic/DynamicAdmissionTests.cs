using System.Text;
using ConfigInjector.ManagedSecrets;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Builders;
using ConfigInjector.TestSupport.Fakes;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace ConfigInjector.Tests.Dynamic;

/// <summary>
/// Dynamic refs at admission, through the webhook against the Vault fake's database engine: one lease per managed
/// Secret (so per ReplicaSet, never per replica), every key of a path from that one lease, nothing issued in a dry run,
/// refused without a <c>dynamic: true</c> rule, and <c>allow-stale</c> acting as deny.
/// </summary>
public sealed class DynamicAdmissionTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 8, 0, 0, TimeSpan.Zero));
    private VaultFake _vault = null!;
    private WebhookServer _server = null!;

    public async Task InitializeAsync()
    {
        _vault = await VaultFake.StartAsync(_time);
        _vault.AddDatabaseRole("database", "shop", TimeSpan.FromHours(1), TimeSpan.FromHours(24));
        _server = await WebhookServer.StartAsync(workDir =>
        {
            Directory.CreateDirectory(Path.Combine(workDir, "config"));
            File.WriteAllText(Path.Combine(workDir, "config", "token"), VaultFake.RootToken);
            File.WriteAllText(Path.Combine(workDir, "config", "injector.yaml"), VaultWebhook.BackendConfig(_vault, "token", "vault-prod", "kvVersion: auto", "retry: { attempts: 1 }"));
            File.WriteAllText(Path.Combine(workDir, "examples", "policies", "dynamic.yaml"), ShopPolicy.Dynamic + """
                  onBackendError: allow-stale
                ---
                apiVersion: configinjector.io/v1alpha1
                kind: SecretPolicy
                metadata: { name: no-dynamic }
                spec:
                  subjects: { namespaces: [plain] }
                  rules:
                    - backend: vault-prod
                      paths: ["database/creds/shop"]
                """);
        }, settings: s => s with { Time = _time },
            // Records a sync worker keeps, as a cluster's are: without one, no dynamic credential is issued (OfflineDynamicTests).
            services: s => s.AddSingleton<ILeaseRecords>(new InProcessLeaseRecords(kept: true)));
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _vault.DisposeAsync();
    }

    private static readonly V1OwnerReference Shop = new() { ApiVersion = "apps/v1", Kind = "ReplicaSet", Name = "shop-7d9f", Uid = "0f6a1c2e-0000-4000-8000-000000000001", Controller = true, BlockOwnerDeletion = true };

    private static PodBuilder Pod(V1OwnerReference owner, string name = "web") => PodBuilder.Injected(name).InNamespace("shop").WithOwner(owner)
        .WithAnnotation("configinjector.io/secret.DB_USER", "vault-prod:database/creds/shop#username")
        .WithAnnotation("configinjector.io/secret.DB_PASSWORD", "vault-prod:database/creds/shop#password");

    private V1Secret ManagedSecret(PodBuilder pod, ReviewResult review, string ns = "shop")
    {
        var patched = PatchOracle.Apply(pod.ToJson(), review.Patch!);
        return _server.Secrets.Find(ns, (string)patched["metadata"]!["annotations"]!["configinjector.io/managed-secret"]!)!;
    }

    [Fact]
    public async Task Username_and_password_come_from_one_lease_and_no_lease_id_or_value_shows()
    {
        var pod = Pod(Shop);

        var review = await _server.ReviewPodAsync(pod, "shop");

        Assert.True(review.Allowed, review.Message);
        var secret = ManagedSecret(pod, review);
        var user = Encoding.UTF8.GetString(secret.Data["DB_USER"]);
        var password = Encoding.UTF8.GetString(secret.Data["DB_PASSWORD"]);
        Assert.True(_vault.CanLogIn(user, password));
        Assert.Equal(1, _vault.CredentialsIssued);
        var leaseId = _vault.LeaseIds.Single();
        var leaks = new Fuzzing.LeakScan([leaseId, user, password]);
        Assert.Null(leaks.FindInResponse(review.Body));
        Assert.Null(leaks.FindInText(string.Join("\n", secret.Metadata.Annotations.Values) + _server.AllLogText()));
        // The lease id is kept with the worker's record, never in the managed Secret.
        Assert.DoesNotContain(secret.Data.Values, v => Encoding.UTF8.GetString(v).Contains(leaseId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Replicas_of_one_replicaset_share_its_lease()
    {
        var first = await _server.ReviewPodAsync(Pod(Shop, "web-1"), "shop");
        var second = await _server.ReviewPodAsync(Pod(Shop, "web-2"), "shop");
        var third = await _server.ReviewPodAsync(Pod(Shop, "web-3"), "shop");

        Assert.All([first, second, third], r => Assert.True(r.Allowed, r.Message));
        Assert.Equal(1, _vault.CredentialsIssued);
        Assert.Equal(first.PatchText, third.PatchText.Replace("web-3", "web-1", StringComparison.Ordinal));

        // Another ReplicaSet (the next rollout) is another managed Secret: its own lease.
        var next = await _server.ReviewPodAsync(Pod(new V1OwnerReference { ApiVersion = "apps/v1", Kind = "ReplicaSet", Name = "shop-8e0a", Uid = "0f6a1c2e-0000-4000-8000-000000000002", Controller = true }), "shop");
        Assert.True(next.Allowed, next.Message);
        Assert.Equal(2, _vault.CredentialsIssued);
    }

    [Fact]
    public async Task A_dry_run_issues_nothing_and_says_what_an_admission_would_do()
    {
        var review = await _server.ReviewPodAsync(Pod(Shop), "shop", dryRun: true);

        Assert.True(review.Allowed, review.Message);
        Assert.Contains(review.Warnings, w => w.StartsWith("vault-prod:database/creds/shop is dynamic: nothing issued in a dry run; an admission issues one lease for managed Secret configinjector-shop-7d9f-", StringComparison.Ordinal));
        Assert.Equal(0, _vault.Count("GET database/creds"));
        Assert.Empty(_server.Secrets.Secrets);
    }

    [Fact]
    public async Task Allow_stale_acts_as_deny_for_a_dynamic_ref()
    {
        Assert.True((await _server.ReviewPodAsync(Pod(Shop), "shop")).Allowed);
        _vault.Sealed = true;

        var other = await _server.ReviewPodAsync(Pod(new V1OwnerReference { ApiVersion = "apps/v1", Kind = "ReplicaSet", Name = "cart-1a2b", Uid = "0f6a1c2e-0000-4000-8000-000000000003", Controller = true }), "shop");

        other.AssertDenied();
        Assert.Contains("vault-prod:database/creds/shop#username: backend error: cannot detect the mount of database/creds/shop: vault HTTP 503: Vault is sealed (dynamic credentials belong to one managed Secret and are never reused from another, so onBackendError: allow-stale acts as deny for them) (no last-known-good value)", other.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("plain", "configinjector.io/secret.DB_USER", "vault-prod:database/creds/shop#username",
        "configinjector: vault-prod:database/creds/shop#username: not found: database is a database secrets engine, not KV; reading it needs a SecretPolicy rule with dynamic: true for database/creds/shop")]
    [InlineData("shop", "configinjector.io/secrets-from", "vault-prod:database/creds/shop",
        "configinjector: vault-prod:database/creds/shop: a dynamic path is delivered key by key (e.g. secret.DB_USER: vault-prod:database/creds/shop#username), not as secrets-from or file-from")]
    public async Task Refused_dynamic_refs_issue_nothing_and_say_why(string ns, string annotation, string reference, string message)
    {
        // In "plain" the only rule for the path has no dynamic: true; in "shop" the path is asked for whole.
        var review = await _server.ReviewPodAsync(PodBuilder.Injected().InNamespace(ns).WithAnnotation(annotation, reference), ns);

        review.AssertDenied();
        Assert.Equal(message, review.Message);
        Assert.Equal(0, _vault.CredentialsIssued);
    }
}
