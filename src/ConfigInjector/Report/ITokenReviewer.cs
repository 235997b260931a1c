namespace ConfigInjector.Report;

/// <summary>Who a bearer token belongs to, as the API server says (a TokenReview); null when it authenticates nobody.</summary>
internal interface ITokenReviewer
{
    Task<(string User, IReadOnlyList<string> Groups)?> ReviewAsync(string token, CancellationToken cancellationToken);
}
