using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ConfigInjector.Backends;
using ConfigInjector.Backends.PodIdentity;
using ConfigInjector.Configuration;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;
using ConfigInjector.Kubernetes;
using ConfigInjector.Tests.Backends;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Fakes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace ConfigInjector.Tests.PodIdentity;

/// <summary>
/// The service-account side of <c>identity: pod</c> on a fake clock shared by the API server fake and the Vault
/// fake: TokenRequest through the Kubernetes adapter, and each service account's Vault token renewed or replaced
/// before it ends, with a fresh service-account token for every login (one lives ten minutes).
/// </summary>
public sealed class ServiceAccountTokenTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-12-07T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private KubeApiFake _api = null!;
    private VaultFake _vault = null!;

    public async Task InitializeAsync()
    {
        _api = await KubeApiFake.StartAsync();
        _api.Time = _time;
        _vault = await VaultFake.StartAsync(_time);
        _vault.EnableKv("secret", 2);
        _vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "p" });
        _vault.ConfigureKubernetesAuth("kubernetes", _api.Address);
    }

    public async Task DisposeAsync()
    {
        await _vault.DisposeAsync();
        await _api.DisposeAsync();
    }

    [Fact]
    public async Task A_token_request_asks_for_the_audience_and_ten_minutes_and_a_missing_service_account_is_named()
    {
        _api.AddServiceAccount("shop", "checkout");
        using var client = Client();
        var accounts = new KubernetesServiceAccounts(client);

        var token = await accounts.RequestTokenAsync(new Subject("shop", "checkout"), "vault", CancellationToken.None);

        var claims = KubeApiFake.VerifiedClaims(token.Token)!;
        Assert.Equal("vault", claims["aud"]![0]!.GetValue<string>());
        Assert.Equal(_time.GetUtcNow().AddMinutes(10), token.ExpiresAt);
        Assert.Equal("shop", claims["kubernetes.io"]!["namespace"]!.GetValue<string>());
        Assert.Equal("checkout", claims["kubernetes.io"]!["serviceaccount"]!["name"]!.GetValue<string>());
        Assert.DoesNotContain(token.Token, token.ToString(), StringComparison.Ordinal);
        var missing = await Assert.ThrowsAsync<ServiceAccountMissingException>(() => accounts.RequestTokenAsync(new Subject("shop", "ghost"), "vault", CancellationToken.None));
        Assert.Equal("service account shop/ghost does not exist", missing.Message);
        await Assert.ThrowsAsync<ServiceAccountMissingException>(() => accounts.AnnotationsAsync(new Subject("shop", "ghost"), CancellationToken.None));
    }

    [Fact]
    public async Task The_api_fake_refuses_a_token_request_shorter_than_ten_minutes_as_the_api_server_does()
    {
        _api.AddServiceAccount("shop", "checkout");
        using var http = new HttpClient { BaseAddress = _api.Address };
        var request = new JsonObject
        {
            ["apiVersion"] = "authentication.k8s.io/v1",
            ["kind"] = "TokenRequest",
            ["spec"] = new JsonObject { ["audiences"] = new JsonArray("vault"), ["expirationSeconds"] = 599 },
        };

        using var response = await http.PostAsJsonAsync("api/v1/namespaces/shop/serviceaccounts/checkout/token", request);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("may not specify a duration less than 10 minutes", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_service_accounts_vault_token_is_renewed_or_replaced_before_it_ends_with_a_fresh_service_account_token()
    {
        _vault.AddKubernetesRole("kubernetes", "shop-renewing", ["renewing"], ["shop"], "vault", TimeSpan.FromMinutes(30), ["secret/data/shop/"]);
        _vault.AddKubernetesRole("kubernetes", "shop-fixed", ["fixed"], ["shop"], "vault", TimeSpan.FromMinutes(30), ["secret/data/shop/"], renewable: false);
        _api.AddServiceAccount("shop", "renewing");
        _api.AddServiceAccount("shop", "fixed");
        using var client = Client();
        var backend = (IReadsAsServiceAccount)Backend(client);
        async Task<ReadStatus> Read(string serviceAccount) =>
            (await backend.ReadAsAsync(new SecretLocation("vault-prod", "secret/shop/db", null), new Subject("shop", serviceAccount), CancellationToken.None)).Status;

        Assert.Equal(ReadStatus.Found, await Read("renewing"));
        Assert.Equal(ReadStatus.Found, await Read("fixed"));
        Assert.Equal((2, 2), (_api.Count("POST serviceaccounts/token"), _vault.Count("POST auth/kubernetes/login")));

        // Past the service-account tokens' ten minutes, within the Vault tokens' lives: nothing new is asked for.
        _time.Advance(TimeSpan.FromMinutes(11));
        Assert.Equal(ReadStatus.Found, await Read("renewing"));
        Assert.Equal(ReadStatus.Found, await Read("fixed"));
        Assert.Equal((2, 2), (_api.Count("POST serviceaccounts/token"), _vault.Count("POST auth/kubernetes/login")));

        // Past two thirds of the Vault tokens' 30 minutes: one is renewed, the other replaced by a login with a new token.
        _time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(ReadStatus.Found, await Read("renewing"));
        Assert.Equal(ReadStatus.Found, await Read("fixed"));
        Assert.Equal(1, _vault.Count("POST auth/token/renew-self"));
        Assert.Equal((3, 3), (_api.Count("POST serviceaccounts/token"), _vault.Count("POST auth/kubernetes/login")));
    }

    private k8s.Kubernetes Client() => new(k8s.KubernetesClientConfiguration.BuildConfigFromConfigFile(_api.WriteKubeconfig(ScratchDirectory.Create())));

    private ISecretBackend Backend(k8s.IKubernetes client)
    {
        var yaml = $"""
            backends:
              - name: vault-prod
                type: vault
                address: {_vault.Address}
                caFile: {_vault.CaFile}
                kvVersion: "2"
                identity: pod
                auth: {"{"} kubernetes: {"{"} audience: vault, roleTemplate: "{"{"}namespace{"}"}-{"{"}serviceAccount{"}"}" {"}"} {"}"}
            """;
        var config = ConfigFileReader.Parse(yaml, "injector.yaml", Path.GetTempPath());
        var context = new BackendContext(_time, NullLoggerFactory.Instance, TestVersionKeys.Install) { ServiceAccounts = new KubernetesServiceAccounts(client) };
        return BackendRegistry.Default.CreateAll(config, context)["vault-prod"];
    }
}
