using ConfigInjector.Core.Report;

namespace ConfigInjector.Sync;

/// <summary>
/// "Refresh now" (DESIGN.md §5): makes every managed Secret that uses a ref matching one of the patterns due now,
/// whatever asked for it (the <c>rotate</c> verb, <c>POST /refresh</c>, an Event Grid delivery, a Vault event). A
/// request changes timing only: policies, pacing and debounce still apply, and a pattern no Secret uses changes nothing.
/// </summary>
internal interface IRefreshRequester
{
    /// <param name="trigger">Who asked, for logs and metrics (e.g. <c>refresh-endpoint</c>, <c>vault-events</c>); never a value.</param>
    Task<RefreshOutcome> RequestAsync(IReadOnlyList<RefPattern> patterns, string trigger, CancellationToken cancellationToken);
}

/// <summary>What a refresh request reached: the patterns some managed Secret uses, those none does, and the Secrets made due.</summary>
internal sealed record RefreshOutcome(IReadOnlyList<RefPattern> Matched, IReadOnlyList<RefPattern> Unknown, int SecretsMadeDue);
