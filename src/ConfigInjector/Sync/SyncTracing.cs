using System.Diagnostics;
using ConfigInjector.Observability;
using k8s.Models;

namespace ConfigInjector.Sync;

/// <summary>
/// The sync worker's spans: a rotation pass, each managed Secret it reconciles (a child of the pass) and each
/// workload restart. They name Secrets, workloads, refs and versions; never a value.
/// </summary>
internal static class SyncTracing
{
    public static Activity? StartPass(int due)
    {
        var span = Tracing.Source.StartActivity(Tracing.RotationPass);
        span?.SetTag(Tracing.Count, due);
        return span;
    }

    public static void EndPass(Activity? span, IReadOnlyList<ReconcileResult> results)
    {
        if (span is null)
            return;
        span.SetTag("configinjector.updated", results.Count(r => r.Status == ReconcileStatus.Updated));
        span.SetTag("configinjector.failed", results.Count(r => r.Status == ReconcileStatus.Failed));
    }

    public static Activity? StartSecret(V1Secret secret)
    {
        var span = Tracing.Source.StartActivity(Tracing.RotationSecret);
        span?.SetTag(Tracing.Namespace, secret.Metadata?.NamespaceProperty);
        span?.SetTag(Tracing.SecretName, secret.Metadata?.Name);
        return span;
    }

    /// <summary>The refs whose versions this Secret's update brings in, as <c>ref@version</c>.</summary>
    public static void Changed(IReadOnlyList<string> refsAtVersions)
    {
        if (Activity.Current is { IsAllDataRequested: true } span && span.Source == Tracing.Source && span.OperationName == Tracing.RotationSecret)
            span.SetTag(Tracing.Version, refsAtVersions.ToArray());
    }

    /// <summary>The result; a failure's reason (the text of the Secret's Event and log line) as the span's status.</summary>
    public static ReconcileResult EndSecret(Activity? span, ReconcileResult result)
    {
        if (span is null)
            return result;
        span.SetTag(Tracing.Result, result.Status.ToString().ToLowerInvariant());
        if (result.Status == ReconcileStatus.Failed)
            Tracing.Fail(span, result.Reason ?? "failed");
        return result;
    }

    public static Activity? StartRestart(Workload workload, string reason)
    {
        var span = Tracing.Source.StartActivity(Tracing.Restart);
        span?.SetTag(Tracing.Namespace, workload.Namespace);
        span?.SetTag(Tracing.Workload, $"{workload.Kind}/{workload.Name}");
        span?.SetTag(Tracing.Reason, reason);
        return span;
    }
}
