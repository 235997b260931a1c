using ConfigInjector.Backends;
using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Patching;
using ConfigInjector.Core.Planning;
using ConfigInjector.Core.Policies;
using ConfigInjector.ManagedSecrets;
using ConfigInjector.Observability;
using ConfigInjector.Policies;

namespace ConfigInjector.Admission;

/// <summary>
/// The admission path after the HTTP checks: should-inject → prepare (targets, refs, policy) → read the
/// backends → complete the plan → write the managed Secret (unless dry-run) → JSON patch. Entry points hand it pods
/// whose shape they checked (<see cref="PodShape"/>): the endpoint answers a malformed one with 400, inject with a denial.
/// </summary>
internal sealed class AdmissionHandler(
    IPolicySource policies,
    SecretCache secrets,
    IReadOnlyDictionary<string, BackendInfo> backends,
    IManagedSecretStore store,
    INamespaceOptIn namespaceOptIn,
    AuditLog audit,
    InjectorMetrics metrics,
    IAdmissionEvents events,
    ISigningKey signingKey,
    SignedSecretMemo signedSecrets,
    DynamicCredentials? dynamicCredentials = null)
{
    public async Task<AdmissionVerdict> HandleAsync(AdmissionInput input, CancellationToken cancellationToken)
    {
        var parsed = AnnotationParser.Parse(input.Pod.Metadata?.Annotations?.AsReadOnly());
        var request = parsed.Request;
        // Only a namespace label can opt in a pod that did not opt in or out itself: skip the lookup otherwise.
        var namespaceOptedIn = request.Inject == OptIn.Unset && !request.AlreadyInjected
            && await namespaceOptIn.IsOptedInAsync(input.Namespace, cancellationToken);
        if (!request.HasAnyAnnotation && !namespaceOptedIn)
            return AdmissionVerdict.Pass([]);
        if (!OptInRules.ShouldInject(request, namespaceOptedIn))
        {
            var warnings = parsed.Warnings.ToList();
            if (OptInRules.AsksWithoutOptIn(request, namespaceOptedIn))
                warnings.Add($"configinjector.io annotations are set but the pod is not opted in; add {AnnotationKeys.Inject}: \"true\"");
            return AdmissionVerdict.Pass(warnings);
        }

        if (parsed.Errors.Count > 0)
            return Deny(input, InjectionPreparer.RequestedRefs(input.Pod, input.Namespace, request, policies.Profiles), parsed.Errors, [.. parsed.Warnings], false, null);

        cancellationToken.ThrowIfCancellationRequested();
        var prepared = InjectionPreparer.Prepare(input.Pod, input.Namespace, request, policies.Current, backends, policies.Profiles, parsed.Warnings);
        if (prepared.Value is null)
            return Deny(input, prepared.Requested, prepared.Errors, prepared.Warnings, prepared.PolicyDenied, null);

        cancellationToken.ThrowIfCancellationRequested();
        var dynamic = DynamicCredentials.Locations(prepared.Value);
        if (dynamic.Count > 0 && dynamicCredentials is not { Issues: true })
            return Deny(input, Requested(prepared.Value), [DynamicCredentials.NotIssuedHere(prepared.Value, dynamic)], prepared.Value.Warnings, false, prepared.Value) with { NeedsCluster = true };
        if (dynamic.Count > 0 && DynamicCredentials.Unsupported(prepared.Value, dynamic) is { } unsupported)
            return Deny(input, Requested(prepared.Value), [unsupported], prepared.Value.Warnings, false, prepared.Value);
        // Read as the pod's service account where a backend has identity: pod (the subject the policies judged).
        // Dynamic paths are never read through the cache: they stand in empty until the managed Secret is named.
        var cached = dynamic.Count == 0 ? prepared.Value.Locations : [.. prepared.Value.Locations.Where(l => !dynamic.Contains(l))];
        var reads = await secrets.ReadAllAsync(prepared.Value.Subject, cached, cancellationToken);
        if (dynamic.Count > 0)
            reads = new Dictionary<Core.References.SecretLocation, Core.Secrets.SecretRead>(reads.Concat(DynamicCredentials.Pending(prepared.Value, dynamic)));
        cancellationToken.ThrowIfCancellationRequested();
        var completed = InjectionCompleter.Complete(input.Pod, prepared.Value, reads, cancellationToken);
        if (completed.Value is null)
            return Deny(input, Requested(prepared.Value), completed.Errors, completed.Warnings, completed.PolicyDenied, prepared.Value);
        if (dynamic.Count > 0 && completed.Value.Secret is { } named)
        {
            completed = await WithDynamicCredentialsAsync(input, prepared.Value, completed, reads, named, dynamic, cancellationToken);
            if (completed.Value is null)
                return Deny(input, Requested(prepared.Value), completed.Errors, completed.Warnings, completed.PolicyDenied, prepared.Value);
        }

        var plan = completed.Value;
        if (plan.Secret is not null && !input.DryRun)
        {
            try
            {
                await store.ApplyTracedAsync(signedSecrets.GetOrCreate(plan.Secret, (await signingKey.GetAsync(cancellationToken)).Current), cancellationToken);
            }
            catch (ManagedSecretException e)
            {
                // A Secret that cannot be written is a backend error like any other: the policy decides.
                if (plan.StrictestOnBackendError == BackendErrorMode.Deny)
                    return Deny(input, Requested(prepared.Value), [$"managed Secret {plan.Secret.Name}: {e.Message}"], plan.Warnings, false, prepared.Value);
                plan = plan.WithoutManagedSecret($"managed Secret {plan.Secret.Name}: {e.Message}; secret values not injected (onBackendError: {plan.StrictestOnBackendError.Word()})");
            }
        }

        if (plan.Skipped.Count > 0 && !input.DryRun)
            events.Skipped(input, plan.Skipped);
        cancellationToken.ThrowIfCancellationRequested();
        var patch = PatchWriter.Write(input.Pod, plan);
        // The plan's decisions are one per ref the pod asked for: they name every requested ref, each text made once.
        audit.Write(input, prepared.Value.Subject, [], plan.Decisions, "allowed", null);
        return AdmissionVerdict.Injected(patch, [.. plan.Warnings.Distinct()]);
    }

    /// <summary>
    /// The plan again with the dynamic paths' credentials in place of their stand-ins; a dry run issues nothing and
    /// keeps the stand-ins, saying what a real admission would do.
    /// </summary>
    private async Task<StepOutcome<InjectionPlan>> WithDynamicCredentialsAsync(AdmissionInput input, PreparedInjection prepared, StepOutcome<InjectionPlan> completed,
        IReadOnlyDictionary<Core.References.SecretLocation, Core.Secrets.SecretRead> reads, ManagedSecretSpec named, HashSet<Core.References.SecretLocation> dynamic, CancellationToken cancellationToken)
    {
        if (input.DryRun)
        {
            var warnings = dynamic.Select(l => $"{l} is dynamic: nothing issued in a dry run; an admission issues one lease for managed Secret {named.Name}, or reuses the live one it holds");
            return completed with { Value = completed.Value! with { Warnings = [.. completed.Value.Warnings, .. warnings] } };
        }
        var issued = await dynamicCredentials!.ObtainAsync(prepared.Subject, named, dynamic, cancellationToken);
        return InjectionCompleter.Complete(input.Pod, prepared, new Dictionary<Core.References.SecretLocation, Core.Secrets.SecretRead>(reads.Where(r => !dynamic.Contains(r.Key)).Concat(issued)), cancellationToken);
    }

    private AdmissionVerdict Deny(AdmissionInput input, IEnumerable<string> requested, IReadOnlyList<string> errors, IReadOnlyList<string> warnings, bool policyDenied, PreparedInjection? prepared)
    {
        if (policyDenied)
            metrics.PolicyDenials.Inc();
        var subject = prepared?.Subject ?? new Subject(input.Namespace, string.IsNullOrEmpty(input.Pod.Spec?.ServiceAccountName) ? "default" : input.Pod.Spec.ServiceAccountName);
        var verdict = AdmissionVerdict.Deny(errors, warnings);
        audit.Write(input, subject, requested, prepared is null ? [] : prepared.Decisions.Values.Concat(prepared.PathDecisions.Values), "denied", verdict.Message);
        return verdict;
    }

    private static IEnumerable<string> Requested(PreparedInjection prepared) =>
        prepared.Decisions.Keys.Concat(prepared.PathDecisions.Keys).Distinct().Select(r => r.ToString());
}
