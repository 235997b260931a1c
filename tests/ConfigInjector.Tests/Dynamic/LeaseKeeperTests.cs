using System.Text.Json.Nodes;
using ConfigInjector.Backends;
using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Planning;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using ConfigInjector.ManagedSecrets;
using ConfigInjector.Observability;
using ConfigInjector.Sync;
using ConfigInjector.Tests.Backends;
using ConfigInjector.Tests.Sync;
using ConfigInjector.TestSupport.Fakes;
using k8s;
using Microsoft.Extensions.Logging.Testing;
using Prometheus;

namespace ConfigInjector.Tests.Dynamic;

/// <summary>
/// The leader's lease keeper on one fake clock shared by Vault and the API server: renewals at two thirds of the TTL,
/// a new credential before the max TTL (delivered with one restart due), the old lease revoked only once every pod is
/// newer than it, revocation when the workload is gone, and a worker that was down past the TTL leaving nothing alive.
/// </summary>
public sealed class LeaseKeeperTests : IAsyncLifetime, IDisposable
{
    private const string Name = "configinjector-shop-7d9f-0123456789";
    private static readonly SecretLocation Creds = new("vault-prod", "database/creds/shop", null);
    private static readonly (string Name, string Uid) ReplicaSet = ("shop-7d9f", "5d0c7a4e-0000-4000-8000-00000000000a");
    private SyncHarness _harness = null!;
    private InProcessLeaseRecords _records = null!;
    private LeaseKeeper _keeper = null!;
    private LeaseIssuers _issuers = null!;
    private readonly InjectorMetrics _metrics = new(Metrics.NewCustomRegistry());
    private readonly FakeLogger<LeaseKeeper> _log = new();
    private readonly BackendLimiter _limiter = new(1000);
    private (string User, string Password, string LeaseId) _first;

    private VaultFake Vault => _harness.Vault;

    public async Task InitializeAsync()
    {
        _harness = await SyncHarness.StartAsync(sharedClock: true);
        Vault.AddDatabaseRole("database", "shop", TimeSpan.FromHours(1), TimeSpan.FromHours(2));
        var backend = VaultTestBackends.Create(Vault, $$"""
            kvVersion: auto
            retry: { attempts: 1, baseDelay: 10ms }
            auth: { token: { file: {{VaultTestBackends.TokenFile(VaultFake.RootToken)}} } }
            """, _harness.Time, "vault-prod");
        _issuers = new LeaseIssuers(new Dictionary<string, ISecretBackend> { ["vault-prod"] = backend }, TimeSpan.FromSeconds(10));
        _records = new InProcessLeaseRecords();
        _keeper = new LeaseKeeper(_harness.Cluster, _records, _issuers, _limiter, _harness.Keys, SyncSettings.Default, _metrics, _harness.Time, _log);
        _first = await AddWorkloadAsync(Name, ReplicaSet, "shop-7d9f-a");
    }

    /// <summary>What an admission leaves: the lease in its record, its keys in the managed Secret, one pod reading it.</summary>
    private async Task<(string User, string Password, string LeaseId)> AddWorkloadAsync(string name, (string Name, string Uid) replicaSet, string pod)
    {
        var issued = await _issuers.IssueAsync(Creds, new Subject("shop", "api"), CancellationToken.None);
        var data = issued.Read.Document!;
        Assert.True(await _records.TrySaveAsync(new LeaseRecord("shop", name, "api", _harness.Time.GetUtcNow(),
            new Dictionary<SecretLocation, LeasedCredential> { [Creds] = new(Creds, data, issued.Lease!) }), CancellationToken.None));
        var secret = ManagedSecretFactory.Create(new ManagedSecretSpec(name, "shop",
            new Dictionary<string, string> { ["DB_USER"] = data.Data["username"], ["DB_PASSWORD"] = data.Data["password"] },
            new Dictionary<string, KeySource> { ["DB_USER"] = new("vault-prod:database/creds/shop#username", data.Version), ["DB_PASSWORD"] = new("vault-prod:database/creds/shop#password", data.Version) },
            new RotationSettings(TimeSpan.FromMinutes(5), RotationMode.Restart), null, "api"), SyncHarness.Key);
        _harness.Api.Put("secrets", JsonNode.Parse(KubernetesJson.Serialize(secret))!.AsObject());
        _harness.AddPod(pod, replicaSet, new Dictionary<string, string> { ["app"] = "shop" }, _harness.Time.GetUtcNow().AddSeconds(-30), name);
        return (data.Data["username"], data.Data["password"], issued.Lease!.Id);
    }

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    public void Dispose() => _limiter.Dispose();

    private Task<LeasePassResult> PassAfterAsync(TimeSpan wait)
    {
        _harness.Time.Advance(wait);
        return _keeper.PassAsync(CancellationToken.None);
    }

    private string Value(string key) => _harness.Value("shop", Name, key);

    [Fact]
    public async Task Leases_are_renewed_at_two_thirds_of_their_ttl_and_not_before()
    {
        Assert.Equal(0, (await PassAfterAsync(TimeSpan.FromMinutes(39))).Renewed);
        Assert.Equal(1, (await PassAfterAsync(TimeSpan.FromMinutes(2))).Renewed);
        Assert.Equal(0, (await PassAfterAsync(TimeSpan.FromMinutes(30))).Renewed);
        Assert.Equal(1, (await PassAfterAsync(TimeSpan.FromMinutes(11))).Renewed);

        Assert.Equal((2, 1), (Vault.LeasesRenewed, Vault.CredentialsIssued));
        Assert.True(Vault.CanLogIn(_first.User, _first.Password));
        Assert.Null(_harness.RestartDue("shop", Name));
    }

    [Fact]
    public async Task Before_the_max_ttl_a_new_credential_is_delivered_with_one_restart_and_the_old_lease_goes_after_the_rollout()
    {
        await PassAfterAsync(TimeSpan.FromMinutes(41));
        await PassAfterAsync(TimeSpan.FromMinutes(41)); // granted only the 38 minutes left of the 2 h max TTL
        var reissue = await PassAfterAsync(TimeSpan.FromMinutes(26));

        Assert.Equal((1, 1), (reissue.Reissued, reissue.Delivered));
        var (user, password) = (Value("DB_USER"), Value("DB_PASSWORD"));
        Assert.NotEqual(_first.User, user);
        Assert.True(Vault.CanLogIn(user, password));
        Assert.NotNull(_harness.RestartDue("shop", Name));
        // The old pod still runs with the old credential: its lease lives on.
        Assert.Equal(0, (await PassAfterAsync(TimeSpan.FromSeconds(5))).Revoked);
        Assert.True(Vault.CanLogIn(_first.User, _first.Password));

        // The rollout: the old pod replaced by one created after the new credential.
        _harness.Api.Delete("pods", "shop", "shop-7d9f-a");
        _harness.AddPod("shop-7d9f-b", ReplicaSet, new Dictionary<string, string> { ["app"] = "shop" }, _harness.Time.GetUtcNow(), Name);
        var after = await PassAfterAsync(TimeSpan.FromSeconds(5));

        Assert.Equal((1, 0), (after.Revoked, after.Reissued));
        Assert.False(Vault.CanLogIn(_first.User, _first.Password));
        Assert.True(Vault.CanLogIn(user, password));
        Assert.Equal(2, Vault.CredentialsIssued);
    }

    [Fact]
    public async Task A_replaced_lease_whose_revocation_fails_is_kept_and_revoked_on_a_later_pass()
    {
        await PassAfterAsync(TimeSpan.FromMinutes(41));
        await PassAfterAsync(TimeSpan.FromMinutes(41));
        await PassAfterAsync(TimeSpan.FromMinutes(26));
        _harness.Time.Advance(TimeSpan.FromSeconds(5));
        _harness.Api.Delete("pods", "shop", "shop-7d9f-a");
        _harness.AddPod("shop-7d9f-b", ReplicaSet, new Dictionary<string, string> { ["app"] = "shop" }, _harness.Time.GetUtcNow(), Name);

        Vault.Sealed = true;
        Assert.Equal(0, (await PassAfterAsync(TimeSpan.FromSeconds(5))).Revoked);
        Vault.Sealed = false;
        Assert.True(Vault.CanLogIn(_first.User, _first.Password));
        Assert.Equal(1, (await PassAfterAsync(TimeSpan.FromSeconds(5))).Revoked);

        Assert.False(Vault.CanLogIn(_first.User, _first.Password));
        Assert.Contains(_log.Collector.GetSnapshot(), r => r.Message.Contains("not revoked, retried next pass", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_lease_whose_workload_is_gone_is_revoked_in_one_pass_with_its_secret()
    {
        _harness.Api.Delete("pods", "shop", "shop-7d9f-a");

        var pass = await PassAfterAsync(SyncSettings.Default.AdoptionGracePeriod + TimeSpan.FromSeconds(1));

        Assert.Equal((1, 1), (pass.Retired, pass.Revoked));
        Assert.Equal(0, Vault.LiveLeases);
        Assert.Null(_harness.Api.Get("secrets", "shop", Name));
        Assert.Empty(await _records.ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_worker_down_past_the_ttl_leaves_nothing_alive_and_on_return_delivers_a_new_credential()
    {
        _harness.Time.Advance(TimeSpan.FromMinutes(61));

        Assert.False(Vault.CanLogIn(_first.User, _first.Password));
        Assert.Equal(0, Vault.LiveLeases);

        var back = await _keeper.PassAsync(CancellationToken.None);
        Assert.Equal((1, 1), (back.Reissued, back.Delivered));
        Assert.True(Vault.CanLogIn(Value("DB_USER"), Value("DB_PASSWORD")));
        Assert.NotNull(_harness.RestartDue("shop", Name));
    }

    [Fact]
    public async Task A_credential_issued_for_a_record_an_admission_wrote_first_is_revoked()
    {
        _harness.Time.Advance(TimeSpan.FromMinutes(61));
        // Between the keeper's list and its save, an admission replaces the ended lease (EndedLeaseAdmissionTests).
        var racing = new RecordsWrittenAfterList(_records, async () =>
        {
            var record = (await _records.FindAsync("shop", Name, CancellationToken.None))!;
            var admitted = await _issuers.IssueAsync(Creds, new Subject("shop", "api"), CancellationToken.None);
            Assert.True(await _records.TrySaveAsync(record with { Leases = new Dictionary<SecretLocation, LeasedCredential> { [Creds] = new(Creds, admitted.Read.Document!, admitted.Lease!) } }, CancellationToken.None));
        });
        var keeper = new LeaseKeeper(_harness.Cluster, racing, _issuers, _limiter, _harness.Keys, SyncSettings.Default, _metrics, _harness.Time, _log);

        var pass = await keeper.PassAsync(CancellationToken.None);

        Assert.Equal((1, 0), (pass.Reissued, pass.Delivered));
        Assert.Equal(3, Vault.CredentialsIssued);
        // Only the admission's credential lives: the keeper's own, in no record, would have lived to its TTL.
        Assert.Equal(1, Vault.LiveLeases);
    }

    private sealed class RecordsWrittenAfterList(ILeaseRecords inner, Func<Task> afterList) : ILeaseRecords
    {
        public bool Kept => inner.Kept;

        public async Task<IReadOnlyList<LeaseRecord>> ListAsync(CancellationToken cancellationToken)
        {
            var listed = await inner.ListAsync(cancellationToken);
            await afterList();
            return listed;
        }

        public Task<LeaseRecord?> FindAsync(string @namespace, string secretName, CancellationToken cancellationToken) => inner.FindAsync(@namespace, secretName, cancellationToken);

        public Task<bool> TrySaveAsync(LeaseRecord record, CancellationToken cancellationToken) => inner.TrySaveAsync(record, cancellationToken);

        public Task DeleteAsync(LeaseRecord record, CancellationToken cancellationToken) => inner.DeleteAsync(record, cancellationToken);
    }

    [Fact]
    public async Task Its_vault_calls_share_the_backends_rate_limit()
    {
        for (var i = 1; i <= 5; i++)
            await AddWorkloadAsync($"{Name}{i}", ($"shop-{i}a{i}b", $"5d0c7a4e-0000-4000-8000-00000000002{i}"), $"shop-{i}a{i}b-a");
        _harness.Time.Advance(TimeSpan.FromMinutes(41));
        using var twoPerSecond = new BackendLimiter(2);
        var keeper = new LeaseKeeper(_harness.Cluster, _records, _issuers, twoPerSecond, _harness.Keys, SyncSettings.Default, _metrics, _harness.Time, _log);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var pass = await keeper.PassAsync(CancellationToken.None);

        Assert.Equal(6, pass.Renewed);
        // Two calls at once, then two a second: six renewals cannot all be made in under two seconds (a lower bound
        // only, which a slow machine cannot break; unpaced, the pass takes milliseconds).
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.9), $"six renewals at two a second took {clock.Elapsed}");
    }

    [Fact]
    public async Task The_leases_gauge_counts_each_pass_by_state_and_never_names_a_lease()
    {
        var others = new[] { await AddWorkloadAsync(Name + "1", ("shop-11aa", "5d0c7a4e-0000-4000-8000-00000000000b"), "shop-11aa-a"), await AddWorkloadAsync(Name + "2", ("shop-22bb", "5d0c7a4e-0000-4000-8000-00000000000c"), "shop-22bb-a") };

        await PassAfterAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(3, Gauge("active"));

        foreach (var pod in new[] { "shop-7d9f-a", "shop-11aa-a", "shop-22bb-a" })
            _harness.Api.Delete("pods", "shop", pod);
        await PassAfterAsync(SyncSettings.Default.AdoptionGracePeriod + TimeSpan.FromSeconds(1));

        Assert.Equal(0, Vault.LiveLeases);
        Assert.Equal(0, Gauge("active"));
        using var scrape = new MemoryStream();
        await _metrics.Registry.CollectAndExportAsTextAsync(scrape);
        var text = System.Text.Encoding.UTF8.GetString(scrape.ToArray());
        Assert.Contains("configinjector_leases{backend=\"vault-prod\",state=\"active\"} 0", text, StringComparison.Ordinal);
        foreach (var leaseId in others.Select(o => o.LeaseId).Append(_first.LeaseId))
            Assert.DoesNotContain(leaseId, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_username_password_or_lease_id_shows_in_logs_events_metadata_or_metrics_over_a_leases_life()
    {
        var other = await AddWorkloadAsync(Name + "1", ("shop-11aa", "5d0c7a4e-0000-4000-8000-00000000000b"), "shop-11aa-a");
        await PassAfterAsync(TimeSpan.FromMinutes(41));
        await PassAfterAsync(TimeSpan.FromMinutes(41));
        // Each failure path logs the vault's answer: sealed while re-issuing, then while revoking.
        Vault.Sealed = true;
        Assert.Equal(0, (await PassAfterAsync(TimeSpan.FromMinutes(26))).Reissued);
        Vault.Sealed = false;
        Assert.Equal(2, (await PassAfterAsync(TimeSpan.FromSeconds(5))).Reissued);
        _harness.Time.Advance(TimeSpan.FromSeconds(5));
        _harness.Api.Delete("pods", "shop", "shop-7d9f-a");
        _harness.Api.Delete("pods", "shop", "shop-11aa-a");
        _harness.AddPod("shop-7d9f-b", ReplicaSet, new Dictionary<string, string> { ["app"] = "shop" }, _harness.Time.GetUtcNow(), Name);
        Vault.Sealed = true;
        await PassAfterAsync(SyncSettings.Default.AdoptionGracePeriod + TimeSpan.FromSeconds(1));
        Vault.Sealed = false;
        await PassAfterAsync(TimeSpan.FromSeconds(5));

        Assert.False(Vault.CanLogIn(other.User, other.Password));
        Assert.False(Vault.CanLogIn(_first.User, _first.Password));
        Assert.Contains(_log.Collector.GetSnapshot(), r => r.Message.Contains("not re-issued", StringComparison.Ordinal));
        Assert.Contains(_log.Collector.GetSnapshot(), r => r.Message.Contains("not revoked", StringComparison.Ordinal));
        var leaks = new Fuzzing.LeakScan(Vault.IssuedCredentials.Concat(Vault.LeaseIds));
        using var scrape = new MemoryStream();
        await _metrics.Registry.CollectAndExportAsTextAsync(scrape);
        var seen = new Dictionary<string, string>
        {
            ["log"] = string.Join("\n", _log.Collector.GetSnapshot().Select(r => $"{r.Message} {r.Exception} {string.Join(" ", r.StructuredState?.Select(p => p.Value) ?? [])}")),
            ["events"] = string.Join("\n", _harness.Api.All("events").Select(e => e.ToJsonString())),
            // The managed Secrets' data is where the credentials belong; everything else about them is visible to more people.
            ["secret metadata"] = string.Join("\n", _harness.Api.All("secrets").Select(s => s["metadata"]!.ToJsonString())),
            ["pods"] = string.Join("\n", _harness.Api.All("pods").Select(p => p.ToJsonString())),
            ["metrics"] = System.Text.Encoding.UTF8.GetString(scrape.ToArray()),
        };
        foreach (var (where, text) in seen)
            Assert.True(leaks.FindInText(text) is null, $"{leaks.FindInText(text)} in the {where}");
    }

    [Fact]
    public async Task A_managed_secret_is_read_only_until_it_holds_its_records_credential_not_on_every_pass()
    {
        await PassAfterAsync(TimeSpan.FromSeconds(1)); // a keeper's first pass checks each Secret once
        var reads = SecretReads();

        await PassAfterAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(1, (await PassAfterAsync(TimeSpan.FromMinutes(41))).Renewed); // a renewal keeps the credential

        Assert.Equal(reads, SecretReads());
    }

    [Fact]
    public async Task A_new_credential_whose_write_was_refused_is_delivered_on_the_next_pass()
    {
        await PassAfterAsync(TimeSpan.FromMinutes(41));
        await PassAfterAsync(TimeSpan.FromMinutes(41));
        _harness.Api.FailNext("PUT", "secrets", 409, reason: "Conflict");
        var refused = await PassAfterAsync(TimeSpan.FromMinutes(26));
        Assert.Equal((1, 0), (refused.Reissued, refused.Delivered));

        var next = await PassAfterAsync(TimeSpan.FromSeconds(1));

        Assert.Equal(1, next.Delivered);
        Assert.NotEqual(_first.User, Value("DB_USER"));
        Assert.True(Vault.CanLogIn(Value("DB_USER"), Value("DB_PASSWORD")));
    }

    [Fact]
    public async Task A_credential_recorded_by_another_replica_is_delivered_on_the_next_pass()
    {
        await PassAfterAsync(TimeSpan.FromSeconds(1));
        // Admission elsewhere replaced the lease (too little of it left for a new pod) and recorded the new one.
        var record = (await _records.FindAsync("shop", Name, CancellationToken.None))!;
        var issued = await _issuers.IssueAsync(Creds, new Subject("shop", "api"), CancellationToken.None);
        Assert.True(await _records.TrySaveAsync(record with
        {
            Leases = new Dictionary<SecretLocation, LeasedCredential> { [Creds] = new(Creds, issued.Read.Document!, issued.Lease!, record.Leases[Creds].Lease) },
        }, CancellationToken.None));

        var pass = await PassAfterAsync(TimeSpan.FromSeconds(1));

        Assert.Equal(1, pass.Delivered);
        Assert.Equal(issued.Read.Document!.Data["username"], Value("DB_USER"));
    }

    private int SecretReads() => _harness.Api.Count($"GET secrets shop/{Name}");

    private double Gauge(string state) => _metrics.Leases.WithLabels("vault-prod", state).Value;
}
