using ConfigInjector.Report;
using k8s;
using k8s.Models;

namespace ConfigInjector.Kubernetes;

/// <summary>
/// TokenReview (authentication.k8s.io/v1): the API server says whose a bearer token is. The review names the endpoint's
/// audience, and the answer counts only when the API server says the token was minted for it (status.audiences): an
/// API server or authenticator that ignores audiences would otherwise pass a token meant for the API itself.
/// </summary>
internal sealed class KubernetesTokenReviewer(IKubernetes client) : ITokenReviewer
{
    public async Task<(string User, IReadOnlyList<string> Groups)?> ReviewAsync(string token, string audience, CancellationToken cancellationToken)
    {
        var spec = new V1TokenReviewSpec { Token = token, Audiences = [audience] };
        var review = await KubernetesErrors.Call(() => client.AuthenticationV1.CreateTokenReviewAsync(
            new V1TokenReview { ApiVersion = "authentication.k8s.io/v1", Kind = "TokenReview", Spec = spec }, cancellationToken: cancellationToken),
            "create", "tokenreviews", null);
        var status = review.Status;
        return status?.Authenticated == true && status.User?.Username is { } user && status.Audiences?.Contains(audience) == true
            ? (user, status.User.Groups?.ToList() ?? [])
            : null;
    }
}
