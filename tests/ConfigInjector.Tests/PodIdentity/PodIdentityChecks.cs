using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Fakes;

namespace ConfigInjector.Tests.PodIdentity;

/// <summary>What every <c>identity: pod</c> backend's tests check the same way.</summary>
internal static class PodIdentityChecks
{
    /// <summary>A vault refusing the service account must deny in each of these.</summary>
    public static TheoryData<string> OnBackendErrorModes => ["deny", "allow-stale", "skip"];

    /// <summary>The one TokenRequest made: <paramref name="audience"/>, ten minutes, the pod's namespace and service account in its claims.</summary>
    public static void AssertOneTokenFor(KubeApiFake api, string audience, string subject)
    {
        var claims = KubeApiFake.VerifiedClaims(Assert.Single(api.IssuedTokens))!;
        Assert.Equal(audience, Assert.Single(claims["aud"]!.AsArray())!.GetValue<string>());
        Assert.Equal(600, claims["exp"]!.GetValue<long>() - claims["iat"]!.GetValue<long>());
        Assert.Equal(subject, claims["sub"]!.GetValue<string>());
    }

    /// <summary>
    /// Vault's Kubernetes auth reviewing tokens with the cluster's API server, and two service accounts of shop: checkout
    /// may read the shop's secrets; intruder's role only another team's (same mount, so the mount lookup passes).
    /// </summary>
    public static void AddCheckoutAndIntruder(ClusterEnvironment cluster)
    {
        cluster.Vault.ConfigureKubernetesAuth("kubernetes", cluster.Api.Address);
        cluster.Vault.AddKubernetesRole("kubernetes", "shop-checkout", ["checkout"], ["shop"], "vault", TimeSpan.FromHours(1), ["secret/data/shop/"]);
        cluster.Vault.AddKubernetesRole("kubernetes", "shop-intruder", ["intruder"], ["shop"], "vault", TimeSpan.FromHours(1), ["secret/data/other/"]);
        cluster.Api.AddServiceAccount("shop", "checkout");
        cluster.Api.AddServiceAccount("shop", "intruder");
    }

    /// <summary>A SecretPolicy letting namespace shop read <paramref name="paths"/> of <paramref name="backend"/>.</summary>
    public static string ShopPolicy(string backend, string paths, string onBackendError = "deny") => $$"""
        apiVersion: configinjector.io/v1alpha1
        kind: SecretPolicy
        metadata: { name: shop }
        spec:
          subjects: { namespaces: [shop] }
          rules:
            - backend: {{backend}}
              paths: ["{{paths}}"]
          onBackendError: {{onBackendError}}
        """;
}
