using System.Diagnostics;
using ConfigInjector.Core.Secrets;
using ConfigInjector.Observability;

namespace ConfigInjector.Backends;

/// <summary>
/// The span of one backend read: which backend, location (the ref's text without its key: not secret), as which
/// service account, and what came back — status and version, never the document.
/// </summary>
internal static class BackendTracing
{
    public static Activity? StartRead(ReadKey key)
    {
        var span = Tracing.Source.StartActivity(Tracing.BackendRead);
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag(Tracing.Backend, key.Location.Backend);
            span.SetTag(Tracing.Location, key.Location.ToString());
            if (key.As is { } pod)
            {
                span.SetTag(Tracing.Namespace, pod.Namespace);
                span.SetTag(Tracing.ServiceAccount, pod.ServiceAccount);
            }
        }
        return span;
    }

    /// <summary>The read's status and version; a failure's reason (the one-liner logged and shown in Events) as the span's status.</summary>
    public static void EndRead(Activity? span, SecretRead read)
    {
        if (span is null)
            return;
        span.SetTag(Tracing.Result, read.Status switch
        {
            ReadStatus.Found => "found",
            ReadStatus.NotFound => "not_found",
            ReadStatus.Refused => "refused",
            _ => "error",
        });
        if (read.Document is { } document)
            span.SetTag(Tracing.Version, document.Version);
        if (read.Status == ReadStatus.Failed)
            Tracing.Fail(span, read.Reason ?? "failed");
    }

    /// <summary>A vault login (its TokenRequest, under <c>identity: pod</c>, is a child): method and mount, never the token or JWT.</summary>
    public static Activity? StartLogin(string method, string mount)
    {
        var span = Tracing.Source.StartActivity(Tracing.VaultLogin);
        span?.SetTag(Tracing.AuthMethod, method);
        span?.SetTag(Tracing.AuthMount, mount);
        return span;
    }
}
