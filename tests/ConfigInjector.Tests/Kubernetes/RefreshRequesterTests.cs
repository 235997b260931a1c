using System.Text.Json.Nodes;
using ConfigInjector.Core.Report;
using ConfigInjector.Sync;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Fakes;
using Microsoft.Extensions.DependencyInjection;

namespace ConfigInjector.Tests.Kubernetes;

/// <summary>
/// The refresh requester every trigger calls, against the fake API server: it annotates exactly the signed managed
/// Secrets whose sources match (ref, prefix, glob), says which patterns nothing uses, and works from any replica,
/// because the leader acts on the annotation.
/// </summary>
public sealed class RefreshRequesterTests : IAsyncLifetime
{
    private const string Refresh = "configinjector.io/refresh";

    private ClusterEnvironment _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ClusterEnvironment.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_follower_annotates_the_signed_secrets_that_use_the_ref_and_the_leader_refreshes_them()
    {
        var leader = await Sync.RefreshAnnotationTests.LeaderAsync(_cluster);
        var follower = await _cluster.StartReplicaAsync("replica-b", rotation: "{ interval: 1h, onChange: restart }");
        var db = await _cluster.AdmitAsync(leader, ClusterEnvironment.PodOf(_cluster.Api.AddDeployment("shop", "checkout"))
            .WithAnnotation("configinjector.io/secret.DB_PASSWORD", "vault-prod:secret/shop/db#password"), "checkout-1");
        var tls = await _cluster.AdmitAsync(leader, ClusterEnvironment.PodOf(_cluster.Api.AddDeployment("shop", "proxy"))
            .WithAnnotation("configinjector.io/file.ca.crt", "vault-prod:secret/shop/tls#ca"), "proxy-1");
        // Anyone who may create Secrets can label one and claim the ref: not signed, not annotated.
        var forged = _cluster.Api.Get("secrets", "shop", db)!;
        forged["metadata"]!["name"] = "forged";
        forged["metadata"]!.AsObject().Remove("resourceVersion");
        _cluster.Api.Put("secrets", forged);
        _cluster.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "cluster-only-password-v2", ["user"] = "shop" });

        var outcome = await follower.Services.GetRequiredService<IRefreshRequester>().RequestAsync(
            [Pattern("vault-prod:secret/shop/db#password"), Pattern("vault-prod:secret/nobody/**")], "test", CancellationToken.None);

        Assert.Equal(["vault-prod:secret/shop/db#password"], outcome.Matched.Select(p => p.ToString()));
        Assert.Equal(["vault-prod:secret/nobody/**"], outcome.Unknown.Select(p => p.ToString()));
        Assert.Equal(1, outcome.SecretsMadeDue);
        Assert.NotNull(Annotation(db));
        Assert.Null(Annotation(tls));
        Assert.Null(Annotation("forged"));
        await Eventually.TrueAsync(() => ClusterEnvironment.SecretValue(_cluster.Api.Get("secrets", "shop", db), "DB_PASSWORD") == "cluster-only-password-v2",
            "the leader to refresh the annotated Secret", TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_prefix_and_a_glob_reach_every_secret_they_match_each_with_a_new_value()
    {
        var server = await Sync.RefreshAnnotationTests.LeaderAsync(_cluster);
        var db = await _cluster.AdmitAsync(server, ClusterEnvironment.PodOf(_cluster.Api.AddDeployment("shop", "checkout"))
            .WithAnnotation("configinjector.io/secret.DB_PASSWORD", "vault-prod:secret/shop/db#password"), "checkout-1");
        var tls = await _cluster.AdmitAsync(server, ClusterEnvironment.PodOf(_cluster.Api.AddDeployment("shop", "proxy"))
            .WithAnnotation("configinjector.io/template.CA", "ca=${vault-prod:secret/shop/tls#ca}"), "proxy-1");
        var requester = server.Services.GetRequiredService<IRefreshRequester>();

        var prefix = await requester.RequestAsync([Pattern("vault-prod:secret/shop/")], "test", CancellationToken.None);
        var first = (Annotation(db), Annotation(tls));
        var glob = await requester.RequestAsync([Pattern("vault-prod:secret/*/tls#c*")], "test", CancellationToken.None);

        Assert.Equal(2, prefix.SecretsMadeDue);
        Assert.Equal(1, glob.SecretsMadeDue);
        Assert.Equal(first.Item1, Annotation(db));
        Assert.NotEqual(first.Item2, Annotation(tls));
    }

    private static RefPattern Pattern(string text) => RefPattern.Parse(text).Value!;

    private string? Annotation(string name) =>
        (_cluster.Api.Get("secrets", "shop", name)!["metadata"]!["annotations"] as JsonObject)?[Refresh]?.GetValue<string>();
}
