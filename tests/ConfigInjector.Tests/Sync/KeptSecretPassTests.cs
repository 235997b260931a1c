using System.Text.Json.Nodes;
using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Planning;
using ConfigInjector.Core.Policies;
using ConfigInjector.ManagedSecrets;
using ConfigInjector.Sync;
using k8s;
using k8s.Models;

namespace ConfigInjector.Tests.Sync;

/// <summary>
/// The leader keeps of each managed Secret only its identity, annotations and a digest of each value (issue 24: memory
/// that does not grow with the cluster). A pass decides from that whether anything changed, reads the Secret whole
/// only then, and decides the write from what it read, signature first.
/// </summary>
public sealed class KeptSecretPassTests : IAsyncLifetime
{
    private static readonly byte[] NewKey = [.. Enumerable.Range(100, 32).Select(i => (byte)i)];
    private SyncHarness _sync = null!;

    public async Task InitializeAsync()
    {
        _sync = await SyncHarness.StartAsync();
        _sync.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "shop-password-v1", ["user"] = "shop" });
        _sync.Vault.Put("secret/ops/admin", new Dictionary<string, string> { ["token"] = "cluster-only-ops-admin-token" });
        _sync.Policies.Allow("shop", "shop", null, "secret/shop/**");
    }

    public async Task DisposeAsync() => await _sync.DisposeAsync();

    [Fact]
    public async Task A_kept_secret_whose_values_are_the_vaults_is_decided_without_reading_it()
    {
        var kept = SyncHarness.Kept(_sync.AddManaged("shop", "configinjector-web", "default", "DB_PASSWORD", "vault-prod:secret/shop/db#password", "shop-password-v1"));

        var result = Assert.Single(await _sync.Pass().RunAsync([kept], CancellationToken.None));

        Assert.Equal(ReconcileStatus.Unchanged, result.Status);
        Assert.Equal((0, 0), (_sync.Api.Count("GET secrets"), _sync.Api.Count("PUT secrets")));
    }

    [Fact]
    public async Task A_kept_secret_with_a_changed_value_is_read_whole_and_keeps_the_values_it_could_not_refresh()
    {
        var kept = SyncHarness.Kept(AddTwoKeys("shop-password-v0"));

        var result = Assert.Single(await _sync.Pass().RunAsync([kept], CancellationToken.None));

        Assert.Equal((ReconcileStatus.Updated, true), (result.Status, result.Backoff));
        Assert.Equal("shop-password-v1", _sync.Value("shop", "configinjector-web", "DB_PASSWORD"));
        Assert.Equal("shop", _sync.Value("shop", "configinjector-web", "DB_USER"));
        Assert.Equal(SignatureCheck.Current, ManagedSecretSignature.Verify(SigningKeys.Single(SyncHarness.Key), _sync.Read("shop", "configinjector-web")));
    }

    [Fact]
    public async Task A_kept_secret_verified_with_a_key_since_rotated_out_is_read_again_and_signed_with_the_new_one()
    {
        var kept = SyncHarness.Kept(_sync.AddManaged("shop", "configinjector-web", "default", "DB_PASSWORD", "vault-prod:secret/shop/db#password", "shop-password-v1"));
        _sync.Keys = new StaticSigningKey(NewKey, SyncHarness.Key);

        await _sync.Pass().RunAsync([kept], CancellationToken.None);

        Assert.Equal(SignatureCheck.Current, ManagedSecretSignature.Verify(SigningKeys.Single(NewKey), _sync.Read("shop", "configinjector-web")));
        Assert.Equal("shop-password-v1", _sync.Value("shop", "configinjector-web", "DB_PASSWORD"));
    }

    [Fact]
    public async Task A_kept_secret_forged_since_it_was_kept_is_not_written_when_its_values_change()
    {
        var kept = SyncHarness.Kept(_sync.AddManaged("shop", "configinjector-web", "default", "DB_PASSWORD", "vault-prod:secret/shop/db#password", "shop-password-v0"));
        // A tenant who may edit Secrets points it at another team's ref; what the leader kept still verifies.
        _sync.Api.Update("secrets", "shop", "configinjector-web", s =>
            s["metadata"]!["annotations"]![ManagedSecretFactory.SourcesAnnotation] = "{\"DB_PASSWORD\":{\"ref\":\"vault-prod:secret/ops/admin#token\",\"version\":\"0\"}}");

        var result = Assert.Single(await _sync.Pass().RunAsync([kept], CancellationToken.None));

        Assert.Equal((ReconcileStatus.Failed, "signature does not match"), (result.Status, result.Reason));
        Assert.Equal(0, _sync.Api.Count("PUT secrets"));
        Assert.Equal("shop-password-v0", _sync.Value("shop", "configinjector-web", "DB_PASSWORD"));
    }

    [Fact]
    public async Task A_kept_orphan_is_adopted_from_the_secret_read_whole_and_a_kept_owned_one_is_not_read()
    {
        var orphan = SyncHarness.Kept(_sync.AddManaged("shop", "configinjector-bare", "default", "DB_PASSWORD", "vault-prod:secret/shop/db#password", "shop-password-v1"));
        var owned = SyncHarness.Kept(_sync.AddManaged("shop", "configinjector-web", "default", "DB_PASSWORD", "vault-prod:secret/shop/db#password", "shop-password-v1",
            owner: new V1OwnerReference { ApiVersion = "apps/v1", Kind = "ReplicaSet", Name = "web-5d8f", Uid = "6f1c2a9e-0000-4000-8000-000000000001", Controller = true }));
        _sync.Api.Put("pods", new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = new JsonObject { ["name"] = "bare", ["namespace"] = "shop", ["annotations"] = new JsonObject { ["configinjector.io/managed-secret"] = "configinjector-bare" } },
        });

        var (adopted, deleted) = await _sync.Collector().CollectAsync([orphan, owned], CancellationToken.None);

        Assert.Equal((1, 0), (adopted, deleted));
        var secret = _sync.Read("shop", "configinjector-bare");
        Assert.Equal("bare", Assert.Single(secret.Metadata.OwnerReferences).Name);
        Assert.Equal("shop-password-v1", _sync.Value("shop", "configinjector-bare", "DB_PASSWORD"));
        Assert.Equal(SignatureCheck.Current, ManagedSecretSignature.Verify(SigningKeys.Single(SyncHarness.Key), secret));
        Assert.Equal(1, _sync.Api.Count("GET secrets"));
    }

    /// <summary>A Secret with two keys, as admission writes it; <c>DB_USER</c>'s path is gone from the vault since, so it keeps its value.</summary>
    private V1Secret AddTwoKeys(string password)
    {
        var secret = ManagedSecretFactory.Create(new ManagedSecretSpec(
            "configinjector-web", "shop", new Dictionary<string, string> { ["DB_PASSWORD"] = password, ["DB_USER"] = "shop" },
            new Dictionary<string, KeySource>
            {
                ["DB_PASSWORD"] = new("vault-prod:secret/shop/db#password", "1"),
                ["DB_USER"] = new("vault-prod:secret/shop/retired#user", "1"),
            },
            new RotationSettings(TimeSpan.FromMinutes(5), RotationMode.None), null, "default"), SyncHarness.Key);
        _sync.Api.Put("secrets", JsonNode.Parse(KubernetesJson.Serialize(secret))!.AsObject());
        return _sync.Read("shop", "configinjector-web");
    }
}
