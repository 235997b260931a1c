using ConfigInjector.Sync;
using ConfigInjector.Tests.Sync;

namespace ConfigInjector.Tests.PodIdentity;

/// <summary>
/// Rotation at scale with <c>identity: pod</c> (issue 20 item 8), on a fake clock shared by the API server fake and the
/// Vault fake: a pass over the Secrets of several service accounts logs each in once, however many Secrets it owns,
/// and a Vault token that ends while the pass's reads are in flight is replaced once per service account, not once
/// per Secret, with every read still answered.
/// </summary>
public sealed class RotationLoginTests : IAsyncLifetime
{
    private const int ServiceAccounts = 5;
    private const int SecretsEach = 4;
    private const int Reads = ServiceAccounts * SecretsEach;
    private static readonly int InFlight = new ConfigInjector.Backends.FairSlots(ConfigInjector.Backends.SecretReader.ConcurrentReadsPerBackend).PerTenantLimit;
    private SyncHarness _sync = null!;

    public async Task InitializeAsync()
    {
        _sync = await SyncHarness.StartAsync(sharedClock: true);
        _sync.Vault.ConfigureKubernetesAuth("kubernetes", _sync.Api.Address);
        _sync.Policies.Allow("shop", "shop", null, "secret/shop/**");
        for (var a = 0; a < ServiceAccounts; a++)
        {
            _sync.Api.AddServiceAccount("shop", $"app-{a}");
            // Not renewable: past two thirds of its 30 minutes, or once it has ended, only a new login replaces it.
            _sync.Vault.AddKubernetesRole("kubernetes", $"shop-app-{a}", [$"app-{a}"], ["shop"], "vault", TimeSpan.FromMinutes(30), ["secret/data/shop/"], renewable: false);
            for (var s = 0; s < SecretsEach; s++)
            {
                _sync.Vault.Put($"secret/shop/app-{a}/ref-{s}", new Dictionary<string, string> { ["value"] = $"value-{a}-{s}" });
                _sync.AddManaged("shop", $"app-{a}-{s}", $"app-{a}", "VALUE", $"vault-prod:secret/shop/app-{a}/ref-{s}#value", $"value-{a}-{s}");
            }
        }
    }

    public async Task DisposeAsync() => await _sync.DisposeAsync();

    private Task<IReadOnlyList<ReconcileResult>> RunAsync(RotationPass pass) =>
        pass.RunAsync([.. Enumerable.Range(0, ServiceAccounts).SelectMany(a => Enumerable.Range(0, SecretsEach).Select(s => _sync.Read("shop", $"app-{a}-{s}")))], CancellationToken.None);

    [Fact]
    public async Task A_pass_over_the_secrets_of_several_service_accounts_logs_each_in_once()
    {
        var results = await RunAsync(_sync.PodPass());

        Assert.All(results, r => Assert.Equal(ReconcileStatus.Unchanged, r.Status));
        Assert.Equal(Reads, _sync.Vault.Count("GET secret/data/shop/"));
        Assert.Equal(ServiceAccounts, _sync.Vault.Count("POST auth/kubernetes/login"));
        Assert.Equal(ServiceAccounts, _sync.Api.Count("POST serviceaccounts/token"));
        Assert.Equal(ServiceAccounts, _sync.PodLogins);
        // Each read was made with its own service account's token, and no other.
        Assert.Equal(
            Enumerable.Range(0, ServiceAccounts).SelectMany(a => Enumerable.Range(0, SecretsEach).Select(s => $"shop-app-{a} secret/data/shop/app-{a}/ref-{s}")).Order(),
            _sync.Vault.ReadsByRole.Order());
    }

    [Fact]
    public async Task A_token_that_ends_while_the_pass_reads_is_replaced_once_per_service_account_and_every_read_is_answered()
    {
        var pass = _sync.PodPass();
        await RunAsync(pass);
        _sync.Time.Advance(TimeSpan.FromMinutes(5)); // the tokens are no longer fresh, and still far from their refresh

        // Vault drops every token while the next pass's reads are on their way with them: as many as one namespace may
        // have in flight to one backend (the rest wait for a slot), four of each of four service accounts. The first
        // refusal is answered alone, and its service account logs in again before the other refusals arrive.
        _sync.Vault.RevokeAll();
        var firstGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var othersGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        string? firstPath = null;
        var arrived = 0;
        _sync.Vault.Hold = path =>
        {
            if (!path.Contains("/shop/app-", StringComparison.Ordinal) || Volatile.Read(ref arrived) >= InFlight)
                return Task.CompletedTask;
            var order = Interlocked.Increment(ref arrived);
            if (order == 1)
                firstPath = path;
            if (order == InFlight)
                firstGate.SetResult();
            return order == 1 ? firstGate.Task : othersGate.Task;
        };
        var passing = RunAsync(pass);
        await firstGate.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        // Its read in the first pass, the refused one, and the retry with the new token.
        while (_sync.Vault.Count("GET " + firstPath) < 3 && DateTime.UtcNow < deadline)
            await Task.Delay(5);
        othersGate.SetResult();
        var results = await passing;

        Assert.All(results, r => Assert.True(r.Status == ReconcileStatus.Unchanged, $"{r.Status}: {r.Reason}"));
        Assert.Equal(2 * ServiceAccounts, _sync.Vault.Count("POST auth/kubernetes/login"));
    }
}
