using System.Text.Json.Nodes;
using ConfigInjector.Core.Planning;
using ConfigInjector.ManagedSecrets;
using ConfigInjector.Sync;
using ConfigInjector.TestSupport.Fakes;

namespace ConfigInjector.Tests.Sync;

/// <summary>
/// Every decision of the sync worker is made on data the injector signed: someone who may edit or label Secrets in
/// a namespace can neither get a value another service account may read, nor steer intervals, restarts, adoption
/// or deletion. The signing key can be rotated with the old one accepted meanwhile.
/// </summary>
public sealed class SignedDataTests : IAsyncLifetime
{
    private static readonly byte[] NewKey = [.. Enumerable.Range(200, 32).Select(i => (byte)i)];
    private SyncHarness _sync = null!;

    public async Task InitializeAsync()
    {
        _sync = await SyncHarness.StartAsync();
        _sync.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "shop-password-v1" });
        _sync.Vault.Put("secret/ops/admin", new Dictionary<string, string> { ["token"] = "cluster-only-ops-admin-token" });
        _sync.Policies.Allow("shop", "shop", null, "secret/shop/**").Allow("ops", "shop", "admin", "secret/ops/**");
    }

    public async Task DisposeAsync() => await _sync.DisposeAsync();

    private static void Forge(JsonObject secret, string reference, string serviceAccount)
    {
        secret["metadata"]!["annotations"]![ManagedSecretFactory.SourcesAnnotation] = "{\"DB_PASSWORD\":{\"ref\":\"" + reference + "\",\"version\":\"0\"}}";
        secret["metadata"]!["annotations"]![ManagedSecretFactory.ServiceAccountAnnotation] = serviceAccount;
    }

    [Fact]
    public async Task A_secret_edited_between_the_workers_read_and_write_is_not_planned_again_from_the_edit()
    {
        var admin = _sync.AddManaged("shop", "configinjector-admin", "admin", "TOKEN", "vault-prod:secret/ops/admin#token", "cluster-only-ops-admin-token");
        var tenant = _sync.AddManaged("shop", "configinjector-tenant", "default", "DB_PASSWORD", "vault-prod:secret/shop/db#password", "shop-password-v0");
        // The tenant rewrites their Secret's sources and service account while the pass runs: the worker's write conflicts.
        _sync.Api.BeforeNext("PUT", "secrets", "configinjector-tenant", () =>
            _sync.Api.Update("secrets", "shop", "configinjector-tenant", s => Forge(s, "vault-prod:secret/ops/admin#token", "admin")));

        var results = await _sync.Pass().RunAsync([admin, tenant], CancellationToken.None);

        Assert.Equal("shop-password-v0", _sync.Value("shop", "configinjector-tenant", "DB_PASSWORD"));
        var result = Assert.Single(results, r => r.Name == "configinjector-tenant");
        Assert.Equal((ReconcileStatus.Failed, "signature does not match"), (result.Status, result.Reason));
        Assert.Single(_sync.Api.Events("Unverified"));
        Assert.Equal(1, _sync.Api.Count("PUT secrets"));
    }

    [Fact]
    public async Task An_unsigned_secret_is_left_alone_with_one_event_and_a_long_requeue()
    {
        var forged = _sync.AddManaged("shop", "configinjector-forged", "default", "DB_PASSWORD", "vault-prod:secret/shop/db#password", "x", key: new byte[32]);

        var pass = _sync.Pass();
        var first = await pass.RunAsync([forged], CancellationToken.None);
        await pass.RunAsync([forged], CancellationToken.None);
        var again = await pass.RunAsync([forged], CancellationToken.None);

        Assert.Equal(SyncSettings.Default.UnverifiedRequeue, Assert.Single(first).RequeueAfter);
        Assert.Equal(SyncSettings.Default.UnverifiedRequeue, Assert.Single(again).RequeueAfter);
        Assert.Single(_sync.Api.Events("Unverified"));
        Assert.Equal(0, _sync.Vault.Count("GET secret/data/shop/db"));
        Assert.Equal(0, _sync.Api.Count("PUT secrets"));
    }

    [Fact]
    public async Task The_policys_interval_decides_when_to_look_again_not_an_annotation()
    {
        _sync.Policies.Policies.Clear();
        _sync.Policies.Allow("shop", "shop", null, "secret/shop/**", interval: TimeSpan.FromMinutes(42));
        var secret = _sync.AddManaged("shop", "configinjector-web", "default", "DB_PASSWORD", "vault-prod:secret/shop/db#password", "shop-password-v1");

        var result = Assert.Single(await _sync.Pass().RunAsync([secret], CancellationToken.None));

        Assert.Equal((ReconcileStatus.Unchanged, TimeSpan.FromMinutes(42)), (result.Status, result.RequeueAfter));
    }

    [Fact]
    public async Task During_a_key_rotation_secrets_signed_with_the_previous_key_are_kept_current_and_signed_again()
    {
        var old = _sync.AddManaged("shop", "configinjector-old", "default", "DB_PASSWORD", "vault-prod:secret/shop/db#password", "shop-password-v1");
        var fresh = _sync.AddManaged("shop", "configinjector-fresh", "default", "DB_PASSWORD", "vault-prod:secret/shop/db#password", "shop-password-v1", key: NewKey);
        _sync.Keys = new StaticSigningKey(NewKey, SyncHarness.Key);

        await _sync.Pass().RunAsync([old, fresh], CancellationToken.None);

        Assert.Equal(SignatureCheck.Current, ManagedSecretSignature.Verify(SigningKeys.Single(NewKey), _sync.Read("shop", "configinjector-old")));
        Assert.Equal("shop-password-v1", _sync.Value("shop", "configinjector-old", "DB_PASSWORD"));
        Assert.Equal(1, _sync.Api.Count("PUT secrets"));
        Assert.Empty(_sync.Api.Events("Unverified"));
        Assert.Empty(_sync.Api.Events("Rotated"));
    }

    [Fact]
    public async Task Only_signed_orphans_are_adopted_or_deleted_and_an_adopted_one_stays_verifiable()
    {
        _sync.Api.Put("secrets", new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Secret",
            ["metadata"] = new JsonObject
            {
                ["name"] = "payments-db-credentials",
                ["namespace"] = "shop",
                ["creationTimestamp"] = "2020-01-01T00:00:00Z",
                ["labels"] = new JsonObject { [ManagedSecretFactory.ManagedByLabel] = ManagedSecretFactory.ManagedByValue },
            },
            ["data"] = new JsonObject { ["password"] = "c2VjcmV0" },
        });
        var unused = _sync.AddManaged("shop", "configinjector-unused", "default", "DB_PASSWORD", "vault-prod:secret/shop/db#password", "v");
        var used = _sync.AddManaged("shop", "configinjector-bare", "default", "DB_PASSWORD", "vault-prod:secret/shop/db#password", "v");
        _sync.Api.Put("pods", new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = new JsonObject { ["name"] = "bare", ["namespace"] = "shop", ["annotations"] = new JsonObject { ["configinjector.io/managed-secret"] = "configinjector-bare" } },
        });

        var (adopted, deleted) = await _sync.Collector().CollectAsync([_sync.Read("shop", "payments-db-credentials"), unused, used], CancellationToken.None);

        Assert.Equal((1, 1), (adopted, deleted));
        Assert.NotNull(_sync.Api.Get("secrets", "shop", "payments-db-credentials"));
        Assert.Null(_sync.Api.Get("secrets", "shop", "configinjector-unused"));
        var adoptedSecret = _sync.Read("shop", "configinjector-bare");
        Assert.Equal("bare", Assert.Single(adoptedSecret.Metadata.OwnerReferences).Name);
        Assert.Equal(SignatureCheck.Current, ManagedSecretSignature.Verify(SigningKeys.Single(SyncHarness.Key), adoptedSecret));
    }

    [Fact]
    public async Task Collection_from_a_stale_copy_deletes_nothing()
    {
        var stale = _sync.AddManaged("shop", "configinjector-orphan", "default", "DB_PASSWORD", "vault-prod:secret/shop/db#password", "v");
        // Written again since the worker's copy was taken (an admission adding an owner would do this).
        _sync.Api.Update("secrets", "shop", "configinjector-orphan", s => s["metadata"]!["labels"]!["touched"] = "yes");

        var (_, deleted) = await _sync.Collector().CollectAsync([stale], CancellationToken.None);

        Assert.Equal(0, deleted);
        Assert.NotNull(_sync.Api.Get("secrets", "shop", "configinjector-orphan"));
        Assert.Contains(_sync.Api.Requests, r => r == "DELETE secrets shop/configinjector-orphan");
    }

    [Fact]
    public async Task A_secret_signed_by_the_first_release_is_accepted_and_signed_again_in_the_current_form()
    {
        var owner = new k8s.Models.V1OwnerReference { ApiVersion = "apps/v1", Kind = "ReplicaSet", Name = "web-1", Uid = "rs-1", Controller = true };
        _sync.AddManaged("shop", "configinjector-web-1", "default", "DB_PASSWORD", "vault-prod:secret/shop/db#password", "shop-password-v1", owner: owner);
        // As the first release wrote it: no owners annotation; HMAC over v1, namespace, name, service account, key=ref.
        var legacy = "v1\nshop\nconfiginjector-web-1\ndefault\nDB_PASSWORD=vault-prod:secret/shop/db#password";
        _sync.Api.Update("secrets", "shop", "configinjector-web-1", s =>
        {
            s["metadata"]!["annotations"]!.AsObject().Remove(ManagedSecretFactory.OwnersAnnotation);
            s["metadata"]!["annotations"]![ManagedSecretFactory.SignatureAnnotation] = Convert.ToBase64String(System.Security.Cryptography.HMACSHA256.HashData(SyncHarness.Key, System.Text.Encoding.UTF8.GetBytes(legacy)));
        });
        var before = _sync.Read("shop", "configinjector-web-1");
        Assert.Equal(SignatureCheck.Legacy, ManagedSecretSignature.Verify(SigningKeys.Single(SyncHarness.Key), before));

        await _sync.Pass().RunAsync([before], CancellationToken.None);

        var after = _sync.Read("shop", "configinjector-web-1");
        Assert.Equal(SignatureCheck.Current, ManagedSecretSignature.Verify(SigningKeys.Single(SyncHarness.Key), after));
        Assert.Equal("rs-1", Assert.Single(ManagedSecretFactory.SignedOwners(after)!).Key);
        Assert.Empty(_sync.Api.Events("Unverified"));
    }
}
