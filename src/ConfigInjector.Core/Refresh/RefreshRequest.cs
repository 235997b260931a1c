using ConfigInjector.Core.Report;

namespace ConfigInjector.Core.Refresh;

/// <summary>What a <c>POST /refresh</c> body asks for, once read.</summary>
public abstract record RefreshRequest;

/// <summary>Event Grid's subscription validation handshake: answered with the code, refreshes nothing.</summary>
public sealed record ValidationHandshake(string Code) : RefreshRequest;

/// <summary>
/// Refs to make due, from one of the body's forms (<see cref="RefreshForms"/>). Events that name nothing of ours (another
/// event type, a vault no backend reads) are counted in <paramref name="IgnoredEvents"/>, not refused: a sender retries a refusal.
/// </summary>
public sealed record RefsToRefresh(string Form, IReadOnlyList<RefPattern> Patterns, int IgnoredEvents) : RefreshRequest;

/// <summary>The body forms, as named in answers, logs and the <c>trigger</c> label.</summary>
public static class RefreshForms
{
    public const string Refs = "refs";
    public const string EventGrid = "event-grid";
    public const string CloudEvents = "cloudevents";
}

/// <summary>An Azure Key Vault a backend reads (the host of its <c>vaultUri</c>): its secret events become refs of that backend.</summary>
public sealed record KeyVaultTarget(string Backend, string Host);
