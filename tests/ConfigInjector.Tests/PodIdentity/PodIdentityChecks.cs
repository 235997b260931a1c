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
}
