using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace ConfigInjector.Tests.Backends;

/// <summary>Vault auth flows with time moved by a FakeTimeProvider shared by the client and the fake.</summary>
public sealed class VaultAuthTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-11-26T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private VaultFake _vault = null!;

    public async Task InitializeAsync()
    {
        _vault = await VaultFake.StartAsync(_time);
        _vault.EnableKv("secret", 2);
        _vault.Put("secret/app/db", new Dictionary<string, string> { ["password"] = "p" });
    }

    public async Task DisposeAsync() => await _vault.DisposeAsync();

    private static async Task<SecretRead> Read(ConfigInjector.Backends.ISecretBackend backend) =>
        await backend.ReadAsync(new SecretLocation(backend.Name, "secret/app/db", null), CancellationToken.None);

    [Fact]
    public async Task Kubernetes_login_renews_before_the_lease_ends_and_logs_in_again_when_it_cannot()
    {
        var jwtFile = Path.Combine(ScratchDirectory.Create(), "sa-token");
        await File.WriteAllTextAsync(jwtFile, "eyJ.sa-token-1");
        _vault.AddKubernetesLogin("kubernetes", "config-injector", "eyJ.sa-token-1", TimeSpan.FromMinutes(30));
        var backend = VaultTestBackends.Create(_vault, $$"""
            kvVersion: "2"
            auth: { kubernetes: { role: config-injector, tokenFile: {{jwtFile}} } }
            """, _time);

        Assert.Equal(ReadStatus.Found, (await Read(backend)).Status);
        Assert.Equal(1, _vault.Count("POST auth/kubernetes/login"));

        _time.Advance(TimeSpan.FromMinutes(10));
        await Read(backend);
        Assert.Equal(0, _vault.Count("POST auth/token/renew-self"));

        _time.Advance(TimeSpan.FromMinutes(11)); // past two thirds of the 30-minute lease
        Assert.Equal(ReadStatus.Found, (await Read(backend)).Status);
        Assert.Equal(1, _vault.Count("POST auth/token/renew-self"));
        Assert.Equal(1, _vault.Count("POST auth/kubernetes/login"));

        // The kubelet rotated the service-account token and the lease ran out: a fresh login with the new token.
        await File.WriteAllTextAsync(jwtFile, "eyJ.sa-token-2");
        _vault.AddKubernetesLogin("kubernetes", "config-injector", "eyJ.sa-token-2", TimeSpan.FromMinutes(30));
        _time.Advance(TimeSpan.FromMinutes(31));
        Assert.Equal(ReadStatus.Found, (await Read(backend)).Status);
        Assert.Equal(2, _vault.Count("POST auth/kubernetes/login"));
    }

    [Fact]
    public async Task A_refused_token_leads_to_one_new_login_but_a_policy_denial_does_not()
    {
        var jwtFile = Path.Combine(ScratchDirectory.Create(), "sa-token");
        await File.WriteAllTextAsync(jwtFile, "eyJ.sa");
        _vault.AddKubernetesLogin("kubernetes", "r", "eyJ.sa", TimeSpan.FromHours(1));
        _vault.DenyRead("secret/data/forbidden/");
        var backend = VaultTestBackends.Create(_vault, $$"""
            kvVersion: "2"
            auth: { kubernetes: { role: r, tokenFile: {{jwtFile}} } }
            """, _time);
        await Read(backend);

        // A fresh token refused is the Vault policy saying no: no new login for it.
        _vault.Put("secret/forbidden/x", new Dictionary<string, string> { ["password"] = "p" });
        var denied = await backend.ReadAsync(new SecretLocation(backend.Name, "secret/forbidden/x", null), CancellationToken.None);
        Assert.Equal(ReadStatus.Failed, denied.Status);
        Assert.Contains("does not allow reading secret/forbidden/x", denied.Reason, StringComparison.Ordinal);
        Assert.Equal(1, _vault.Count("GET secret/data/forbidden/x"));
        Assert.Equal(1, _vault.Count("POST auth/kubernetes/login"));
        _vault.RevokeAll();
        await Read(backend);
        await Read(backend);
        Assert.Equal(1, _vault.Count("POST auth/kubernetes/login"));

        // An older token refused was revoked (a Vault restart, an operator): one new login, and reads work again.
        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(ReadStatus.Found, (await Read(backend)).Status);
        Assert.Equal(2, _vault.Count("POST auth/kubernetes/login"));
        Assert.Equal(ReadStatus.Found, (await Read(backend)).Status);
        Assert.Equal(2, _vault.Count("POST auth/kubernetes/login"));
    }

    [Fact]
    public async Task Reads_in_flight_when_their_token_is_revoked_log_in_once_and_all_succeed()
    {
        var jwtFile = Path.Combine(ScratchDirectory.Create(), "sa-token");
        await File.WriteAllTextAsync(jwtFile, "eyJ.sa");
        _vault.AddKubernetesLogin("kubernetes", "r", "eyJ.sa", TimeSpan.FromHours(1));
        var backend = VaultTestBackends.Create(_vault, $$"""
            kvVersion: "2"
            auth: { kubernetes: { role: r, tokenFile: {{jwtFile}} } }
            """, _time);
        Assert.Equal(ReadStatus.Found, (await Read(backend)).Status);
        _time.Advance(TimeSpan.FromMinutes(5));

        // Two reads carry the old token when Vault drops it; the second one's 403 arrives after the first has logged in again.
        _vault.RevokeAll();
        var first = new TaskCompletionSource();
        var second = new TaskCompletionSource();
        var bothArrived = new TaskCompletionSource();
        var held = 0;
        _vault.Hold = path => path != "secret/data/app/db" ? Task.CompletedTask : Interlocked.Increment(ref held) switch
        {
            1 => first.Task,
            2 => Arrived(second.Task),
            _ => Task.CompletedTask,
        };
        Task Arrived(Task gate)
        {
            bothArrived.SetResult();
            return gate;
        }
        var readA = Read(backend);
        var readB = Read(backend);
        await bothArrived.Task.WaitAsync(TimeSpan.FromSeconds(10));
        first.SetResult();
        Assert.Equal(ReadStatus.Found, (await readA.WaitAsync(TimeSpan.FromSeconds(10))).Status);
        second.SetResult();

        var late = await readB.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(late.Status == ReadStatus.Found, late.Reason);
        Assert.Equal(2, _vault.Count("POST auth/kubernetes/login"));
    }

    [Fact]
    public async Task AppRole_logs_in_with_role_id_and_secret_id_file()
    {
        var secretIdFile = Path.Combine(ScratchDirectory.Create(), "secret-id");
        await File.WriteAllTextAsync(secretIdFile, "approle-secret-id\n");
        _vault.AddAppRoleLogin("approle", "config-injector", "approle-secret-id", TimeSpan.FromMinutes(20));
        var backend = VaultTestBackends.Create(_vault, $$"""
            kvVersion: "2"
            auth: { approle: { roleId: config-injector, secretIdFile: {{secretIdFile}} } }
            """, _time);

        Assert.Equal(ReadStatus.Found, (await Read(backend)).Status);
        Assert.Equal(1, _vault.Count("POST auth/approle/login"));
    }

    [Fact]
    public async Task A_role_or_role_id_that_vault_does_not_know_fails_the_read_with_vaults_reason()
    {
        var folder = ScratchDirectory.Create();
        var jwtFile = Path.Combine(folder, "sa-token");
        var secretIdFile = Path.Combine(folder, "secret-id");
        await File.WriteAllTextAsync(jwtFile, "eyJ.sa");
        await File.WriteAllTextAsync(secretIdFile, "approle-secret-id");
        _vault.AddKubernetesLogin("kubernetes", "config-injector", "eyJ.sa", TimeSpan.FromHours(1));
        _vault.AddAppRoleLogin("approle", "config-injector", "approle-secret-id", TimeSpan.FromHours(1));
        var kubernetes = VaultTestBackends.Create(_vault, $$"""
            kvVersion: "2"
            auth: { kubernetes: { role: payments, tokenFile: {{jwtFile}} } }
            """, _time);
        var approle = VaultTestBackends.Create(_vault, $$"""
            kvVersion: "2"
            auth: { approle: { roleId: payments, secretIdFile: {{secretIdFile}} } }
            """, _time);

        var byKubernetes = await Read(kubernetes);
        var byAppRole = await Read(approle);

        Assert.Equal(ReadStatus.Failed, byKubernetes.Status);
        Assert.Contains("kubernetes login at auth/kubernetes failed", byKubernetes.Reason, StringComparison.Ordinal);
        Assert.Contains("invalid role name \"payments\"", byKubernetes.Reason, StringComparison.Ordinal);
        Assert.Equal(ReadStatus.Failed, byAppRole.Status);
        Assert.Contains("approle login at auth/approle failed", byAppRole.Reason, StringComparison.Ordinal);
        Assert.Contains("invalid role or secret ID", byAppRole.Reason, StringComparison.Ordinal);
        Assert.Equal(0, _vault.Count("GET secret/"));
    }

    [Fact]
    public async Task A_token_file_is_re_read_when_it_changes_and_renewed_when_renewable()
    {
        var tokenFile = VaultTestBackends.TokenFile(_vault.IssueToken(TimeSpan.FromMinutes(30)));
        var backend = VaultTestBackends.Create(_vault, $$"""
            kvVersion: "2"
            auth: { token: { file: {{tokenFile}} } }
            """, _time);
        Assert.Equal(ReadStatus.Found, (await Read(backend)).Status);

        _time.Advance(TimeSpan.FromMinutes(21));
        Assert.Equal(ReadStatus.Found, (await Read(backend)).Status);
        Assert.Equal(1, _vault.Count("POST auth/token/renew-self"));

        // Vault Agent writes a new token: it is used from the next read on.
        var next = _vault.IssueToken(TimeSpan.FromMinutes(30));
        await File.WriteAllTextAsync(tokenFile, next);
        File.SetLastWriteTimeUtc(tokenFile, DateTime.UtcNow.AddMinutes(1));
        _vault.RevokeAllExcept(next);
        Assert.Equal(ReadStatus.Found, (await Read(backend)).Status);
    }
}
