namespace ConfigInjector.Report;

/// <summary>Who a bearer token belongs to, as the API server says (a TokenReview); null when it authenticates nobody.</summary>
internal interface ITokenReviewer
{
    /// <param name="audience">The audience the token must have been minted for (each endpoint has its own).</param>
    Task<(string User, IReadOnlyList<string> Groups)?> ReviewAsync(string token, string audience, CancellationToken cancellationToken);
}
