namespace ConfigInjector.Sync;

/// <summary>What a watch event says happened to its object, as the API server names it (ADDED, MODIFIED, ...).</summary>
internal enum WatchEventType
{
    Added,
    Modified,
    Deleted,

    /// <summary>Only the object's resourceVersion is meaningful: where to watch from next.</summary>
    Bookmark,
}
