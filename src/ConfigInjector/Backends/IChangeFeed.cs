namespace ConfigInjector.Backends;

/// <summary>
/// An optional capability of a backend: it says which of its paths changed, as they change (Vault's event stream), so
/// the refs that use them are refreshed within seconds rather than on the policy's interval. Polling stays on beside it.
/// </summary>
internal interface IChangeFeed
{
    string Name { get; }

    /// <summary>Who asks for the refresh, for logs and metrics (e.g. <c>vault-events</c>).</summary>
    string Trigger { get; }

    /// <summary>
    /// One subscription: each changed path as a ref names it, as it comes. Ends when the source closes the stream and
    /// throws when it cannot be opened; the caller reconnects. Never yields or throws a credential or a value.
    /// </summary>
    IAsyncEnumerable<string> ChangedPathsAsync(CancellationToken cancellationToken);
}
