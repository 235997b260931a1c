using ConfigInjector.Core.Annotations;
using k8s.Models;

namespace ConfigInjector.Sync;

/// <summary>
/// The leader's reading of <see cref="AnnotationKeys.Refresh"/> for one term: a managed Secret whose refresh annotation
/// took a value not seen on it before is due at the next refresh batch. The annotation is anyone's to set, so it
/// buys timing only, and a flood of it is coalesced: every request that arrives while a batch is pending joins it, and
/// batches are at least <paramref name="window"/> apart, so one pass reads each ref once for all of them.
/// What is kept is a hash of the value, and only for Secrets that carry the annotation.
/// <para>
/// The first request of a quiet period waits out the window too: it cannot tell it is alone, and served at once it
/// would leave the rest of a flood to a second batch, which must read every ref again (a read that began before a
/// request may have missed the vault write that request is about).
/// </para>
/// </summary>
internal sealed class RefreshRequests(TimeProvider time, TimeSpan window)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Namespace, string Name), int> _seen = [];
    private DateTimeOffset _batch = DateTimeOffset.MinValue;

    /// <summary>
    /// When the Secret is due because of this change of it, or null when the change asks for nothing: no
    /// annotation, the value seen last time, or a Secret seen for the first time (the term's first list makes every
    /// Secret due anyway; a Secret just created was just filled).
    /// </summary>
    /// <param name="known">Whether the term's first list is in and this is a change of a Secret that existed before it.</param>
    public DateTimeOffset? Requested(V1Secret secret, bool known)
    {
        if (secret.Metadata?.Annotations?.TryGetValue(AnnotationKeys.Refresh, out var value) != true || value is null)
        {
            Forget(secret);
            return null;
        }
        var hash = StringComparer.Ordinal.GetHashCode(value);
        var key = (secret.Metadata.NamespaceProperty, secret.Metadata.Name);
        lock (_lock)
        {
            var seenBefore = _seen.TryGetValue(key, out var last);
            _seen[key] = hash;
            if (!known || (seenBefore && last == hash))
                return null;
            var now = time.GetUtcNow();
            if (_batch <= now)
                _batch = now + window;
            return _batch;
        }
    }

    /// <summary>
    /// How long the leader sleeps before its next pass: a tick, but not past the pending batch, which is served when due
    /// rather than at the tick after it (a batch opened during a sleep is seen when it ends: at once while the tick is
    /// no longer than the window, as by default).
    /// </summary>
    /// <param name="lastPass">When the last pass began: a batch due after that is not served yet, even if it is due by now
    /// (a timer may wake a little early, and the pass's own work then crosses the batch's time).</param>
    public TimeSpan UntilNextPass(TimeSpan tick, DateTimeOffset lastPass)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            if (_batch <= lastPass)
                return tick;
            var left = _batch - now;
            return left >= tick ? tick : left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
    }

    public void Forget(V1Secret secret)
    {
        lock (_lock)
            _seen.Remove((secret.Metadata.NamespaceProperty, secret.Metadata.Name));
    }
}
