using ConfigInjector.Observability;
using ConfigInjector.Tests.Sync;

namespace ConfigInjector.Tests.Observability;

/// <summary>
/// A read as a pod's service account (<c>identity: pod</c>) shows its login: the Vault login under the read, the
/// TokenRequest under the login, each naming the service account, and neither the JWT nor the Vault token anywhere.
/// </summary>
public sealed class LoginTraceTests : IAsyncLifetime, IDisposable
{
    private readonly TraceCapture _traces = new();
    private SyncHarness _sync = null!;

    public async Task InitializeAsync()
    {
        _sync = await SyncHarness.StartAsync(sharedClock: true);
        _sync.Vault.ConfigureKubernetesAuth("kubernetes", _sync.Api.Address);
        _sync.Policies.Allow("shop", "shop", null, "secret/shop/**");
        _sync.Api.AddServiceAccount("shop", "payments");
        _sync.Vault.AddKubernetesRole("kubernetes", "shop-payments", ["payments"], ["shop"], "vault", TimeSpan.FromMinutes(30), ["secret/data/shop/"]);
        _sync.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "cluster-only-password" });
    }

    public void Dispose() => _traces.Dispose();

    public async Task DisposeAsync() => await _sync.DisposeAsync();

    [Fact]
    public async Task The_login_and_its_token_request_are_children_of_the_read_without_any_token()
    {
        var secret = _sync.AddManaged("shop", "configinjector-payments", "payments", "DB_PASSWORD", "vault-prod:secret/shop/db#password", "cluster-only-password");

        var spans = await _traces.RunAsync(() => _sync.PodPass().RunAsync([secret], CancellationToken.None));

        var read = spans.Single(s => s.OperationName == Tracing.BackendRead);
        Assert.Equal(("shop", "payments", "found"),
            ((string?)read.GetTagItem(Tracing.Namespace), (string?)read.GetTagItem(Tracing.ServiceAccount), (string?)read.GetTagItem(Tracing.Result)));
        var login = spans.Single(s => s.OperationName == Tracing.VaultLogin);
        Assert.Equal(read.SpanId, login.ParentSpanId);
        Assert.Equal(("kubernetes", "kubernetes"), ((string?)login.GetTagItem(Tracing.AuthMethod), (string?)login.GetTagItem(Tracing.AuthMount)));
        var tokenRequest = spans.Single(s => s.OperationName == Tracing.TokenRequest);
        Assert.Equal(login.SpanId, tokenRequest.ParentSpanId);
        Assert.Equal(("shop", "payments"), ((string?)tokenRequest.GetTagItem(Tracing.Namespace), (string?)tokenRequest.GetTagItem(Tracing.ServiceAccount)));
        var tokens = _sync.Api.IssuedTokens.Concat(_sync.Vault.IssuedTokens).ToList();
        Assert.Equal(2, tokens.Count);
        var text = string.Join("\n", spans.SelectMany(s => s.TagObjects.Select(t => $"{t.Key}={t.Value}").Append(s.StatusDescription ?? "")));
        Assert.All(tokens, token => Assert.DoesNotContain(token, text, StringComparison.Ordinal));
    }
}
