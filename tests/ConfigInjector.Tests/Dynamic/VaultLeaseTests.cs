using ConfigInjector.Backends;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;
using ConfigInjector.Tests.Backends;
using ConfigInjector.TestSupport.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace ConfigInjector.Tests.Dynamic;

/// <summary>The Vault backend's dynamic credentials against the fake's database engine, on a fake clock.</summary>
public sealed class VaultLeaseTests : IAsyncLifetime
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);
    private static readonly Subject Pod = new("shop", "api");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 8, 0, 0, TimeSpan.Zero));
    private VaultFake _vault = null!;
    private IIssuesLeases _backend = null!;

    public async Task InitializeAsync()
    {
        _vault = await VaultFake.StartAsync(_time);
        _vault.EnableKv("secret", 2);
        _vault.Put("secret/app/db", new Dictionary<string, string> { ["password"] = "kv-value" });
        _vault.AddDatabaseRole("database", "app", Hour, TimeSpan.FromHours(3));
        _backend = (IIssuesLeases)VaultTestBackends.Create(_vault, $$"""
            kvVersion: auto
            retry: { attempts: 1, baseDelay: 10ms }
            auth: { token: { file: {{VaultTestBackends.TokenFile(VaultFake.RootToken)}} } }
            """, _time);
    }

    public async Task DisposeAsync() => await _vault.DisposeAsync();

    private static SecretLocation At(string path) => new("vault-test", path, null);

    [Fact]
    public async Task One_issue_gives_every_key_of_one_credential_and_its_lease()
    {
        var issued = await _backend.IssueAsync(At("database/creds/app"), Pod, CancellationToken.None);

        Assert.Equal(ReadStatus.Found, issued.Read.Status);
        var data = issued.Read.Document!.Data;
        Assert.True(_vault.CanLogIn(data["username"], data["password"]));
        Assert.Equal(1, _vault.CredentialsIssued);
        Assert.Equal(_vault.LeaseIds.Single(), issued.Lease!.Id);
        Assert.Equal((_time.GetUtcNow() + Hour, Hour, true), (issued.Lease.ExpiresAt, issued.Lease.Ttl, issued.Lease.Renewable));
        // The version names the lease without showing it.
        Assert.Equal(Lease.Fingerprint(issued.Lease.Id), issued.Read.Document.Version);
        Assert.DoesNotContain(issued.Lease.Id, issued.Lease.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Renewals_are_granted_the_ttl_until_the_max_ttl_caps_them_and_then_the_lease_is_over()
    {
        var lease = (await _backend.IssueAsync(At("database/creds/app"), Pod, CancellationToken.None)).Lease!;
        var granted = new List<int>();
        // Every 40 minutes (two thirds of the hour granted): the role's max TTL of 3 h cuts the fourth renewal to 20 min.
        for (var i = 0; i < 4; i++)
        {
            _time.Advance(TimeSpan.FromMinutes(40));
            Assert.Equal(LeaseStep.Renew, lease.Next(_time.GetUtcNow()));
            var renewed = await _backend.RenewAsync(lease, Pod, CancellationToken.None);
            Assert.Equal(LeaseOutcome.Done, renewed.Outcome);
            lease = renewed.Lease!;
            granted.Add((int)lease.Granted.TotalMinutes);
        }

        Assert.Equal([60, 60, 60, 20], granted);
        Assert.True(lease.Capped);
        Assert.Equal(LeaseStep.Reissue, lease.Next(lease.RenewAt));
        _time.Advance(TimeSpan.FromMinutes(20));
        Assert.Equal(LeaseStep.Expired, lease.Next(_time.GetUtcNow()));
        var over = await _backend.RenewAsync(lease, Pod, CancellationToken.None);
        Assert.Equal((LeaseOutcome.Gone, "vault HTTP 400: lease not found or lease is not renewable"), (over.Outcome, over.Reason));
        Assert.Equal(4, _vault.LeasesRenewed);
    }

    [Fact]
    public async Task A_revoked_lease_ends_its_credential_at_once()
    {
        var issued = await _backend.IssueAsync(At("database/creds/app"), Pod, CancellationToken.None);

        var revoked = await _backend.RevokeAsync(issued.Lease!, Pod, CancellationToken.None);

        Assert.Equal(LeaseOutcome.Done, revoked.Outcome);
        Assert.False(_vault.CanLogIn(issued.Read.Document!.Data["username"], issued.Read.Document.Data["password"]));
        Assert.Equal(0, _vault.LiveLeases);
    }

    [Theory]
    [InlineData("secret/app/db", "secret is a kv mount, not a lease-issuing secrets engine; drop dynamic: true to read KV secrets")]
    [InlineData("auth/token/create", "auth/ is Vault's own auth mount; it never issues credentials to pods")]
    [InlineData("sys/leases/lookup", "sys/ is Vault's own sys mount; it never issues credentials to pods")]
    public async Task Only_a_lease_issuing_engine_issues(string path, string reason)
    {
        var issued = await _backend.IssueAsync(At(path), Pod, CancellationToken.None);

        Assert.Equal((ReadStatus.NotFound, reason), (issued.Read.Status, issued.Read.Reason));
        Assert.Null(issued.Lease);
        Assert.Equal(0, _vault.Count("GET secret/data") + _vault.Count("GET auth/token/create") + _vault.Count("GET sys/leases"));
    }

    [Fact]
    public async Task A_ref_to_the_engine_without_dynamic_is_refused_and_issues_nothing()
    {
        var read = await ((ISecretBackend)_backend).ReadAsync(At("database/creds/app"), CancellationToken.None);

        Assert.Equal(ReadStatus.NotFound, read.Status);
        Assert.Equal("database is a database secrets engine, not KV; reading it needs a SecretPolicy rule with dynamic: true for database/creds/app", read.Reason);
        Assert.Equal(0, _vault.CredentialsIssued);
    }
}
