namespace ConfigInjector.Sync;

internal enum ReconcileStatus { Unchanged, Updated, Failed }

/// <summary>What reconciling one managed Secret did, and when to look at it again. Failures are values, not exceptions.</summary>
internal sealed record ReconcileResult(string Namespace, string Name, ReconcileStatus Status, string? Reason, TimeSpan RequeueAfter);
