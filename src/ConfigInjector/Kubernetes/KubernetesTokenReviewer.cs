using ConfigInjector.Report;
using k8s;
using k8s.Models;

namespace ConfigInjector.Kubernetes;

/// <summary>TokenReview (authentication.k8s.io/v1): the API server says whose a bearer token is.</summary>
internal sealed class KubernetesTokenReviewer(IKubernetes client) : ITokenReviewer
{
    public async Task<(string User, IReadOnlyList<string> Groups)?> ReviewAsync(string token, CancellationToken cancellationToken)
    {
        var review = await KubernetesErrors.Call(() => client.AuthenticationV1.CreateTokenReviewAsync(
            new V1TokenReview { ApiVersion = "authentication.k8s.io/v1", Kind = "TokenReview", Spec = new V1TokenReviewSpec { Token = token } }, cancellationToken: cancellationToken),
            "create", "tokenreviews", null);
        return review.Status?.Authenticated == true && review.Status.User?.Username is { } user
            ? (user, review.Status.User.Groups?.ToList() ?? [])
            : null;
    }
}
