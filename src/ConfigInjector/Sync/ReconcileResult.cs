namespace ConfigInjector.Sync;

internal enum ReconcileStatus { Unchanged, Updated, Failed }

/// <summary>
/// What reconciling one managed Secret did, and when to look at it again: after <see cref="RequeueAfter"/>, or, when
/// <see cref="Backoff"/> is set (a backend read failed), sooner, backing off per Secret up to it. Failures are values, not exceptions.
/// </summary>
internal sealed record ReconcileResult(string Namespace, string Name, ReconcileStatus Status, string? Reason, TimeSpan RequeueAfter, bool Backoff = false);
