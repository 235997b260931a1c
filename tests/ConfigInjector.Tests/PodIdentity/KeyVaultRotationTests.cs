using ConfigInjector.Backends.AzureKeyVault;
using ConfigInjector.Sync;
using ConfigInjector.Tests.Fuzzing;
using ConfigInjector.Tests.Sync;
using ConfigInjector.TestSupport.Fakes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace ConfigInjector.Tests.PodIdentity;

/// <summary>
/// The sync worker's rotation pass with an Azure Key Vault <c>identity: pod</c> backend: each managed Secret's refs are
/// read as the service account its signature records, with the Entra app that service account names. Two service
/// accounts of shop, checkout and billing, each with its own client id; Key Vault lets each read only its own secrets
/// (secret-scope role assignments) and both read <c>shared-config</c>. Every test ends with the log, the Events and the
/// pass's reasons scanned for values and for every token handed out (service-account tokens, Entra access tokens).
/// A service account pointed at another app (or tenant) is read as that one once its annotations are
/// <see cref="ServiceAccountClients.AnnotationsFreshFor"/> old.
/// </summary>
public sealed class KeyVaultRotationTests : IAsyncLifetime
{
    private const string CheckoutClient = "11111111-0000-4000-8000-00000000c0de";
    private const string BillingClient = "33333333-0000-4000-8000-0000000b1111";
    private const string RepointedClient = "44444444-0000-4000-8000-00000000beef";
    private const string Shared = "shared-config";
    private const int SecretsEach = 3;
    private static readonly string[] Accounts = ["checkout", "billing"];
    private SyncHarness _sync = null!;
    private KeyVaultFake _keyVault = null!;
    private readonly FakeLogCollector _logs = new();
    private readonly List<ReconcileResult> _results = [];

    public async Task InitializeAsync()
    {
        _sync = await SyncHarness.StartAsync();
        _keyVault = await KeyVaultFake.StartAsync();
        _sync.Policies.Allow("shop", "shop", null, "*", backend: "kv-prod");
        foreach (var (account, client) in Accounts.Zip([CheckoutClient, BillingClient]))
        {
            _sync.Api.AddServiceAccount("shop", account, new Dictionary<string, string> { ["azure.workload.identity/client-id"] = client });
            _keyVault.AddFederatedIdentity(client, "shop", account, mayRead: false);
            _keyVault.GrantRead(client, Shared);
            foreach (var name in Names(account))
            {
                _keyVault.GrantRead(client, name);
                _sync.AddManaged("shop", name, account, "VALUE", $"kv-prod:{name}", $"kv-old-{name}");
            }
            _sync.AddManaged("shop", $"{account}-shared", account, "VALUE", $"kv-prod:{Shared}", "kv-old-shared");
        }
        SetAll("kv-new");
    }

    public async Task DisposeAsync()
    {
        var scan = new LeakScan([.. _sync.Api.IssuedTokens, .. _keyVault.IssuedAccessTokens, .. Accounts.SelectMany(Names).Append(Shared).Select(n => $"kv-new-{n}")]);
        Assert.All(_logs.GetSnapshot(), r => Assert.Null(scan.FindInText($"{r.Message} {r.Exception}")));
        Assert.All(_sync.Api.All("events"), e => Assert.Null(scan.FindInText(e.ToJsonString())));
        Assert.All(_results, r => Assert.Null(scan.FindInText(r.Reason ?? "")));
        await _keyVault.DisposeAsync();
        await _sync.DisposeAsync();
    }

    private static IEnumerable<string> Names(string account) => Enumerable.Range(0, SecretsEach).Select(i => $"{account}-{i}");

    private static IEnumerable<string> SecretsOf(string account) => Names(account).Append($"{account}-shared");

    /// <summary>A new version of every secret: <paramref name="prefix"/>-&lt;name&gt;.</summary>
    private void SetAll(string prefix)
    {
        foreach (var name in Accounts.SelectMany(Names).Append(Shared))
            _keyVault.Set(name, $"{prefix}-{name}");
    }

    // The provider only writes to the collector: there is nothing to release.
    private RotationPass Pass() => _sync.KeyVaultPodPass(_keyVault, new LoggerFactory([new FakeLoggerProvider(_logs)]));

    private async Task<Dictionary<string, ReconcileResult>> RunAsync(RotationPass pass)
    {
        var results = await pass.RunAsync([.. Accounts.SelectMany(SecretsOf).Select(n => _sync.Read("shop", n))], CancellationToken.None);
        _results.AddRange(results);
        return results.ToDictionary(r => r.Name);
    }

    private string Value(string secret) => _sync.Value("shop", secret, "VALUE");

    [Fact]
    public async Task Each_managed_secret_is_rotated_with_what_key_vault_gives_the_client_id_of_its_own_service_account()
    {
        var results = await RunAsync(Pass());

        Assert.All(results.Values, r => Assert.True(r.Status == ReconcileStatus.Updated, $"{r.Name}: {r.Status} {r.Reason}"));
        Assert.All(Accounts.SelectMany(Names), n => Assert.Equal($"kv-new-{n}", Value(n)));
        Assert.All(Accounts, a => Assert.Equal($"kv-new-{Shared}", Value($"{a}-shared")));
        // Each read under its own service account's client id: the shared secret once as each, nothing refused.
        Assert.Equal(
            Names("checkout").Append(Shared).Select(n => $"{CheckoutClient} {n}").Concat(Names("billing").Append(Shared).Select(n => $"{BillingClient} {n}")).Order(),
            _keyVault.ReadsByClient.Order());
        Assert.Equal(0, _keyVault.Count("GET forbidden"));
    }

    [Fact]
    public async Task A_client_whose_access_is_withdrawn_keeps_its_secrets_and_is_named_while_the_other_service_account_still_rotates()
    {
        var pass = Pass();
        await RunAsync(pass); // both clients now hold an Entra token
        SetAll("kv-newer");
        _keyVault.WithdrawRead(BillingClient);

        var results = await RunAsync(pass);

        Assert.All(SecretsOf("checkout"), n => Assert.Equal(ReconcileStatus.Updated, results[n].Status));
        Assert.All(Names("checkout"), n => Assert.Equal($"kv-newer-{n}", Value(n)));
        Assert.Equal($"kv-newer-{Shared}", Value("checkout-shared"));
        var who = $"service account shop/billing (client id {BillingClient})";
        foreach (var name in SecretsOf("billing"))
        {
            Assert.Equal(ReconcileStatus.Failed, results[name].Status);
            Assert.Contains(who, results[name].Reason, StringComparison.Ordinal);
            Assert.Contains("ForbiddenByRbac", results[name].Reason, StringComparison.Ordinal);
            Assert.Contains(_logs.GetSnapshot(), r => r.Level == LogLevel.Warning && r.Message.Contains($"shop/{name}", StringComparison.Ordinal) && r.Message.Contains(who, StringComparison.Ordinal));
        }
        // The value checkout's client read of the very same secret did not reach billing's Secret.
        Assert.All(Names("billing"), n => Assert.Equal($"kv-new-{n}", Value(n)));
        Assert.Equal($"kv-new-{Shared}", Value("billing-shared"));
        Assert.Contains(_sync.Api.All("events"), e => e["reason"]?.GetValue<string>() == "NotRefreshed" && e.ToJsonString().Contains(who, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_pass_makes_one_token_exchange_per_service_account_however_many_secrets_it_owns()
    {
        var pass = Pass();

        var results = await RunAsync(pass);

        Assert.All(results.Values, r => Assert.Equal(ReconcileStatus.Updated, r.Status));
        Assert.Equal(2 * (SecretsEach + 1), _keyVault.ReadsByClient.Count);
        Assert.Equal(Accounts.Length, _keyVault.Count("POST token"));
        Assert.Equal(Accounts.Length, _sync.Api.Count("POST serviceaccounts/token"));
        Assert.Equal(Accounts.Length, _sync.Api.Count("GET serviceaccounts"));

        // The next pass reads with the Entra tokens it holds: no exchange at all.
        SetAll("kv-newer");
        await RunAsync(pass);
        Assert.Equal(4 * (SecretsEach + 1), _keyVault.ReadsByClient.Count);
        Assert.Equal(Accounts.Length, _keyVault.Count("POST token"));
    }

    [Fact]
    public async Task A_service_account_pointed_at_another_client_id_is_read_as_that_one_once_its_annotations_are_due_again()
    {
        var pass = Pass();
        await RunAsync(pass);
        _keyVault.AddFederatedIdentity(RepointedClient, "shop", "billing", mayRead: false);
        foreach (var name in Names("billing").Append(Shared))
            _keyVault.GrantRead(RepointedClient, name);
        _sync.Api.Update("serviceaccounts", "shop", "billing", sa => sa["metadata"]!["annotations"]![ServiceAccountClients.ClientIdAnnotation] = RepointedClient);
        _sync.Time.Advance(ServiceAccountClients.AnnotationsFreshFor);
        SetAll("kv-newer");
        var before = _keyVault.ReadsByClient.Count;

        var results = await RunAsync(pass);

        Assert.All(results.Values, r => Assert.True(r.Status == ReconcileStatus.Updated, $"{r.Name}: {r.Status} {r.Reason}"));
        Assert.Equal(
            Names("checkout").Append(Shared).Select(n => $"{CheckoutClient} {n}").Concat(Names("billing").Append(Shared).Select(n => $"{RepointedClient} {n}")).Order(),
            _keyVault.ReadsByClient.Skip(before).Order());
        // The new app exchanged once; checkout's client kept its Entra token; billing's old client is not kept beside the new one.
        Assert.Equal(Accounts.Length + 1, _keyVault.Count("POST token"));
        Assert.Equal(Accounts.Length, _sync.KeyVaultClients.Count);
    }

    [Fact]
    public async Task A_tenant_id_corrected_on_the_service_account_is_used_once_its_annotations_are_due_again()
    {
        // Billing names a tenant the vault is not in: Azure.Identity will not ask it for a token for the vault's tenant.
        _sync.Api.Update("serviceaccounts", "shop", "billing", sa => sa["metadata"]!["annotations"]![ServiceAccountClients.TenantIdAnnotation] = "0a0a0a0a-0000-4000-8000-000000000000");
        var pass = Pass();
        var first = await RunAsync(pass);
        Assert.All(SecretsOf("billing"), n => Assert.Equal(ReconcileStatus.Failed, first[n].Status));

        _sync.Api.Update("serviceaccounts", "shop", "billing", sa => sa["metadata"]!["annotations"]![ServiceAccountClients.TenantIdAnnotation] = KeyVaultFake.TenantId);
        _sync.Time.Advance(ServiceAccountClients.AnnotationsFreshFor);
        var results = await RunAsync(pass);

        Assert.All(SecretsOf("billing"), n => Assert.True(results[n].Status == ReconcileStatus.Updated, $"{n}: {results[n].Status} {results[n].Reason}"));
        Assert.All(Names("billing"), n => Assert.Equal($"kv-new-{n}", Value(n)));
    }

    [Fact]
    public async Task Annotations_are_read_once_a_minute_per_service_account_and_an_unchanged_client_id_keeps_its_entra_token()
    {
        var pass = Pass();
        await RunAsync(pass);

        await RunAsync(pass);
        Assert.Equal(Accounts.Length, _sync.Api.Count("GET serviceaccounts"));

        _sync.Time.Advance(ServiceAccountClients.AnnotationsFreshFor);
        await RunAsync(pass);
        Assert.Equal(2 * Accounts.Length, _sync.Api.Count("GET serviceaccounts"));
        Assert.Equal(Accounts.Length, _keyVault.Count("POST token"));
        Assert.Equal(Accounts.Length, _sync.Api.Count("POST serviceaccounts/token"));
    }

    [Fact]
    public async Task The_api_server_out_of_reach_when_the_annotations_are_due_again_leaves_each_service_account_reading_as_its_app()
    {
        var pass = Pass();
        await RunAsync(pass);
        _sync.Time.Advance(ServiceAccountClients.AnnotationsFreshFor);
        _sync.Api.FailNext("GET", "serviceaccounts", 503, count: Accounts.Length, reason: "ServiceUnavailable");
        SetAll("kv-newer");

        var results = await RunAsync(pass);

        Assert.Equal(0, _sync.Api.PendingFaults);
        Assert.All(results.Values, r => Assert.True(r.Status == ReconcileStatus.Updated, $"{r.Name}: {r.Status} {r.Reason}"));
        Assert.Equal(2 * Accounts.Length, _keyVault.ReadsByClient.Count(r => r.EndsWith($" {Shared}", StringComparison.Ordinal)));
    }
}
