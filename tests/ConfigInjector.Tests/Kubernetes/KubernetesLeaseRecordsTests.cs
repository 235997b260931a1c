using System.Text;
using System.Text.Json.Nodes;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;
using ConfigInjector.Kubernetes;
using ConfigInjector.ManagedSecrets;
using ConfigInjector.TestSupport.Fakes;
using k8s;

namespace ConfigInjector.Tests.Kubernetes;

/// <summary>
/// Lease records as Secrets in the injector's namespace, written by the real store over KubernetesClient to the fake
/// API server: what a save leaves there (label, type, the lease id only in data, one record per namespace and name),
/// optimistic concurrency on resourceVersion, and a list that takes only well-formed labelled records.
/// </summary>
public sealed class KubernetesLeaseRecordsTests : IAsyncLifetime
{
    private const string InjectorNamespace = "config-injector";
    private static readonly SecretLocation Creds = new("vault-prod", "database/creds/shop", null);
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 18, 0, 0, TimeSpan.Zero);

    private KubeApiFake _api = null!;
    private KubernetesLeaseRecords _records = null!;

    public async Task InitializeAsync()
    {
        _api = await KubeApiFake.StartAsync();
        _records = new KubernetesLeaseRecords(new k8s.Kubernetes(new KubernetesClientConfiguration { Host = _api.Address.ToString() }), InjectorNamespace);
    }

    public async Task DisposeAsync() => await _api.DisposeAsync();

    private static LeaseRecord Record(string ns, string secret, string leaseId, string user = "v-token-shop-1") =>
        new(ns, secret, "api", Now, new Dictionary<SecretLocation, LeasedCredential>
        {
            [Creds] = new(Creds, new SecretDocument(Lease.Fingerprint(leaseId), new Dictionary<string, string> { ["username"] = user, ["password"] = "A1a-" + user }),
                new Lease(leaseId, Now, Now.AddHours(1), TimeSpan.FromHours(1), TimeSpan.FromHours(1), Renewable: true)),
        });

    private JsonObject Stored(string ns, string secret) => _api.Get("secrets", InjectorNamespace, KubernetesLeaseRecords.NameFor(ns, secret))!;

    private Task<LeaseRecord?> FindAsync(string ns, string secret) => _records.FindAsync(ns, secret, CancellationToken.None);

    [Fact]
    public async Task A_saved_record_is_found_again_whole_with_its_resource_version()
    {
        Assert.True(await _records.TrySaveAsync(Record("shop", "configinjector-shop-7d9f", "database/creds/shop/lease-1"), CancellationToken.None));

        var found = await FindAsync("shop", "configinjector-shop-7d9f");

        Assert.NotNull(found);
        Assert.Equal(("shop", "configinjector-shop-7d9f", "api", Now), (found.Namespace, found.SecretName, found.ServiceAccount, found.Created));
        var credential = Assert.Single(found.Leases).Value;
        Assert.Equal((Creds, "database/creds/shop/lease-1", Now.AddHours(1), true), (credential.Location, credential.Lease.Id, credential.Lease.ExpiresAt, credential.Lease.Renewable));
        Assert.Equal("v-token-shop-1", credential.Document.Data["username"]);
        Assert.Equal(Stored("shop", "configinjector-shop-7d9f")["metadata"]!["resourceVersion"]!.GetValue<string>(), found.Version);
        Assert.Null(await FindAsync("shop", "configinjector-other"));
    }

    [Fact]
    public async Task The_record_is_an_opaque_labelled_secret_of_the_injectors_namespace_holding_the_lease_id_only_in_data()
    {
        const string LeaseId = "database/creds/shop/0b7c9a52-lease";
        await _records.TrySaveAsync(Record("shop", "configinjector-shop-7d9f", LeaseId), CancellationToken.None);

        var stored = Assert.Single(_api.All("secrets"));
        var metadata = stored["metadata"]!.AsObject();
        Assert.Equal(InjectorNamespace, metadata["namespace"]!.GetValue<string>());
        Assert.Equal("Opaque", stored["type"]!.GetValue<string>());
        Assert.Equal("""{"configinjector.io/lease-record":"true"}""", metadata["labels"]!.ToJsonString());
        Assert.StartsWith("configinjector-lease-", metadata["name"]!.GetValue<string>(), StringComparison.Ordinal);
        // Labels, annotations and the name are what `kubectl get` shows and events quote: neither the id nor whose Secret it is.
        Assert.DoesNotContain(LeaseId, metadata.ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain("configinjector-shop-7d9f", metadata.ToJsonString(), StringComparison.Ordinal);
        var data = Encoding.UTF8.GetString(Convert.FromBase64String(stored["data"]!["record"]!.GetValue<string>()));
        Assert.Contains(LeaseId, data, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_namespaces_with_a_secret_of_the_same_name_get_two_records()
    {
        Assert.True(await _records.TrySaveAsync(Record("shop", "configinjector-api", "database/creds/shop/lease-shop", "v-token-shop"), CancellationToken.None));
        Assert.True(await _records.TrySaveAsync(Record("billing", "configinjector-api", "database/creds/shop/lease-billing", "v-token-billing"), CancellationToken.None));

        Assert.Equal(2, _api.All("secrets", InjectorNamespace).Count);
        Assert.Equal("database/creds/shop/lease-shop", (await FindAsync("shop", "configinjector-api"))!.Leases[Creds].Lease.Id);
        Assert.Equal("database/creds/shop/lease-billing", (await FindAsync("billing", "configinjector-api"))!.Leases[Creds].Lease.Id);
        Assert.Equal(["billing", "shop"], (await _records.ListAsync(CancellationToken.None)).Select(r => r.Namespace).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_save_from_a_stale_version_or_a_second_create_is_refused_and_writes_nothing()
    {
        await _records.TrySaveAsync(Record("shop", "configinjector-api", "database/creds/shop/lease-1"), CancellationToken.None);
        var read = (await FindAsync("shop", "configinjector-api"))!;
        Assert.True(await _records.TrySaveAsync(Record("shop", "configinjector-api", "database/creds/shop/lease-2") with { Version = read.Version }, CancellationToken.None));
        var written = Stored("shop", "configinjector-api").ToJsonString();

        // Another replica's write landed after `read`: its version is stale now (the fake's 409 Conflict).
        Assert.False(await _records.TrySaveAsync(Record("shop", "configinjector-api", "database/creds/shop/lease-3") with { Version = read.Version }, CancellationToken.None));
        // Another replica created it first (409 AlreadyExists).
        Assert.False(await _records.TrySaveAsync(Record("shop", "configinjector-api", "database/creds/shop/lease-4"), CancellationToken.None));

        Assert.Equal(written, Stored("shop", "configinjector-api").ToJsonString());
        Assert.Equal("database/creds/shop/lease-2", (await FindAsync("shop", "configinjector-api"))!.Leases[Creds].Lease.Id);
    }

    [Fact]
    public async Task List_takes_only_labelled_secrets_of_the_injectors_namespace()
    {
        await _records.TrySaveAsync(Record("shop", "configinjector-api", "database/creds/shop/lease-1"), CancellationToken.None);
        var copy = Stored("shop", "configinjector-api");
        // The same record data without the label, and with the label in another namespace: neither is a lease record.
        PutSecret(InjectorNamespace, "unlabelled", labelled: false, copy["data"]!["record"]!.GetValue<string>());
        PutSecret("shop", KubernetesLeaseRecords.NameFor("shop", "configinjector-web"), labelled: true, copy["data"]!["record"]!.GetValue<string>());

        var listed = await _records.ListAsync(CancellationToken.None);

        Assert.Equal("configinjector-api", Assert.Single(listed).SecretName);
    }

    [Fact]
    public async Task Delete_removes_the_record_but_not_one_written_since_it_was_read()
    {
        await _records.TrySaveAsync(Record("shop", "configinjector-api", "database/creds/shop/lease-1"), CancellationToken.None);
        await _records.TrySaveAsync(Record("shop", "configinjector-web", "database/creds/shop/lease-2"), CancellationToken.None);
        var stale = (await FindAsync("shop", "configinjector-web"))!;
        await _records.TrySaveAsync(Record("shop", "configinjector-web", "database/creds/shop/lease-3") with { Version = stale.Version }, CancellationToken.None);

        await _records.DeleteAsync((await FindAsync("shop", "configinjector-api"))!, CancellationToken.None);
        await _records.DeleteAsync(stale, CancellationToken.None);

        Assert.Null(await FindAsync("shop", "configinjector-api"));
        Assert.Equal("database/creds/shop/lease-3", (await FindAsync("shop", "configinjector-web"))!.Leases[Creds].Lease.Id);
    }

    [Fact]
    public async Task A_labelled_secret_holding_garbage_is_skipped_not_thrown()
    {
        await _records.TrySaveAsync(Record("shop", "configinjector-api", "database/creds/shop/lease-1"), CancellationToken.None);
        var garbage = KubernetesLeaseRecords.NameFor("shop", "configinjector-web");
        PutSecret(InjectorNamespace, garbage, labelled: true, Convert.ToBase64String("{not json"u8));
        PutSecret(InjectorNamespace, "configinjector-lease-shape", labelled: true, Convert.ToBase64String("""{"namespace":"shop","leases":[{"lease":7}]}"""u8));
        PutSecret(InjectorNamespace, "configinjector-lease-empty", labelled: true, null);

        var listed = await _records.ListAsync(CancellationToken.None);

        Assert.Equal("configinjector-api", Assert.Single(listed).SecretName);
        Assert.Null(await FindAsync("shop", "configinjector-web"));
    }

    private void PutSecret(string ns, string name, bool labelled, string? record) => _api.Put("secrets", new JsonObject
    {
        ["apiVersion"] = "v1",
        ["kind"] = "Secret",
        ["type"] = "Opaque",
        ["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["namespace"] = ns,
            ["labels"] = labelled ? new JsonObject { [KubernetesLeaseRecords.Label] = "true" } : null,
        },
        ["data"] = record is null ? null : new JsonObject { ["record"] = record },
    });
}
