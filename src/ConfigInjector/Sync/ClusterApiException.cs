using System.Net;

namespace ConfigInjector.Sync;

/// <summary>
/// A failed call through <see cref="ISyncCluster"/>: the HTTP status (null when the API server was not reached) and
/// one line that says what was attempted and, on 403, which permission is missing.
/// </summary>
internal sealed class ClusterApiException(HttpStatusCode? status, string message, Exception? inner = null) : Exception(message, inner)
{
    public HttpStatusCode? Status { get; } = status;

    public bool IsConflict => Status == HttpStatusCode.Conflict;

    public bool IsNotFound => Status == HttpStatusCode.NotFound;

    /// <summary>410: a list or watch asked for a resourceVersion the API server no longer keeps.</summary>
    public bool IsGone => Status == HttpStatusCode.Gone;

    /// <summary>Worth trying again later: a conflict, throttling or a server error may pass; 403 or 404 will not.</summary>
    public bool MayPass => Status is HttpStatusCode.Conflict or HttpStatusCode.TooManyRequests or >= HttpStatusCode.InternalServerError;
}
