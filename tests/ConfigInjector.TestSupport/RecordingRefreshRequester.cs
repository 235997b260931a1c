using System.Collections.Concurrent;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Report;
using ConfigInjector.Sync;
using Microsoft.Extensions.DependencyInjection;

namespace ConfigInjector.TestSupport;

/// <summary>
/// An <see cref="IRefreshRequester"/> that records every request (patterns, trigger, when) in place of the leader's: a
/// pattern is matched when it matches one of the refs given as "in use", and each matched pattern counts one Secret made due.
/// </summary>
public sealed class RecordingRefreshRequester(params string[] refsInUse) : IRefreshRequester
{
    public sealed record Request(IReadOnlyList<RefPattern> Patterns, string Trigger, DateTimeOffset At);

    private readonly IReadOnlyList<SecretReference> _inUse = [.. refsInUse.Select(r => ReferenceParser.Parse(r).Value!)];
    private readonly ConcurrentQueue<Request> _calls = new();

    public IReadOnlyList<Request> Calls => [.. _calls];

    /// <summary>Makes the host use this recorder instead of whatever it registered (pass to the host's replaceServices hook).</summary>
    public void Register(IServiceCollection services) => services.AddSingleton<IRefreshRequester>(this);

    /// <summary>Every pattern requested so far, as text, in order.</summary>
    public IReadOnlyList<string> Requested => [.. _calls.SelectMany(c => c.Patterns.Select(p => p.ToString()))];

    Task<RefreshOutcome> IRefreshRequester.RequestAsync(IReadOnlyList<RefPattern> patterns, string trigger, CancellationToken cancellationToken)
    {
        _calls.Enqueue(new Request(patterns, trigger, DateTimeOffset.UtcNow));
        var matched = patterns.Where(p => _inUse.Any(p.Matches)).ToList();
        return Task.FromResult(new RefreshOutcome(matched, [.. patterns.Except(matched)], matched.Count));
    }
}
