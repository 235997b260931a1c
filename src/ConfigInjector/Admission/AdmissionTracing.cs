using System.Diagnostics;
using ConfigInjector.Core.Policies;
using ConfigInjector.Observability;

namespace ConfigInjector.Admission;

/// <summary>
/// The admission span: a child of the HTTP request's span, so of the API server's trace when it sent a
/// <c>traceparent</c>. It names the pod, the refs asked for, the decision and its rules; never a value.
/// </summary>
internal static class AdmissionTracing
{
    public static Activity? Start(AdmissionInput input)
    {
        var span = Tracing.Source.StartActivity(Tracing.Admission);
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag(Tracing.Namespace, input.Namespace);
            span.SetTag(Tracing.Pod, input.PodName);
            span.SetTag(Tracing.AdmissionUid, input.Uid);
            span.SetTag(Tracing.DryRun, input.DryRun);
        }
        return span;
    }

    /// <summary>Records the verdict's result; a denial or failure carries its message (shown to the pod's creator, so value-free).</summary>
    public static AdmissionVerdict End(Activity? span, AdmissionVerdict verdict)
    {
        if (span is null)
            return verdict;
        span.SetTag(Tracing.Result, verdict.Result);
        if (verdict.Result == "error")
            Tracing.Fail(span, verdict.Message ?? verdict.Result);
        else if (!verdict.Allowed)
            span.SetTag(Tracing.Reason, verdict.Message);
        return verdict;
    }

    /// <summary>The admission span being decided on this thread, when it records attributes.</summary>
    public static Activity? Current =>
        Activity.Current is { IsAllDataRequested: true } span && span.Source == Tracing.Source && span.OperationName == Tracing.Admission ? span : null;

    /// <summary>What the audit line says, on the admission span: refs, decision and the rules that allowed them.</summary>
    public static void Decided(Activity span, Subject subject, IEnumerable<string> refs, IEnumerable<string> rules, string decision)
    {
        span.SetTag(Tracing.ServiceAccount, subject.ServiceAccount);
        span.SetTag(Tracing.Refs, refs.ToArray());
        span.SetTag(Tracing.Rules, rules.ToArray());
        span.SetTag(Tracing.Decision, decision);
    }
}
