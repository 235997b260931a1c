using System.Text;
using ConfigInjector.Backends;
using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Planning;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Rotation;
using ConfigInjector.Core.Secrets;
using ConfigInjector.Core.Templates;
using ConfigInjector.ManagedSecrets;
using ConfigInjector.Observability;
using ConfigInjector.Policies;
using k8s.Models;

namespace ConfigInjector.Sync;

/// <summary>
/// One rotation pass over the managed Secrets that are due: one fresh backend read per unique location (rate-limited
/// per backend, bypassing the admission cache), then per Secret a resourceVersion-guarded update when a value or
/// version changed, an Event, and a paced restart of its workloads when an env-delivered value changed.
/// </summary>
internal sealed partial class RotationPass(
    ISyncCluster cluster,
    SecretReader reader,
    SecretCache cache,
    ISigningKey signingKey,
    IPolicySource policies,
    BackendLimiter limiter,
    RestartRecords restarts,
    SyncSettings settings,
    TimeProvider time,
    InjectorMetrics metrics,
    ILogger<RotationPass> log)
{
    private const int UpdateAttempts = 4;
    private const int ReportedCapacity = 10_000;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<(Subject Subject, string Reference, bool PathOnly), (string? Refusal, RotationSettings Rotation)> _decisions = new();
    // Sources parsed once per pass by annotation text: thousands of Secrets are checked, planned and signed from them.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, IReadOnlyDictionary<string, KeySource>?> _sources = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _failing = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _reportedUnverified = new(StringComparer.Ordinal);

    public async Task<IReadOnlyList<ReconcileResult>> RunAsync(IReadOnlyList<V1Secret> due, CancellationToken cancellationToken)
    {
        using var pass = SyncTracing.StartPass(due.Count);
        var keys = await signingKey.GetAsync(cancellationToken);
        _decisions.Clear();
        _sources.Clear();
        var (whole, unread) = await ReadStubsAgainAsync(due, keys, cancellationToken);
        due = whole;
        // Secrets printed by `inject` are the user's to refresh: not rotation work, and not forgeries either.
        var all = due.Where(s => !ManagedSecretFactory.HasManualLifecycle(s)).ToList();
        var results = due.Where(ManagedSecretFactory.HasManualLifecycle)
            .Select(s => new ReconcileResult(s.Metadata.NamespaceProperty, s.Metadata.Name, ReconcileStatus.Unchanged, "manual lifecycle", settings.ManualLifecycleRequeue))
            .Concat(unread)
            .ToList();
        // Every decision below reads signed data only: sources, service account, interval, mode, owners.
        // A kept Secret was verified with the current key when it arrived (ReadStubsAgainAsync read the others again).
        var checks = all.Select(s => (Secret: s, Check: s is KeptSecret ? SignatureCheck.Current : ManagedSecretSignature.Verify(keys, s, Sources(s)))).ToList();
        // A failed check may be a key rotated in by another replica: read the keys again and check only those once more.
        if (checks.Any(c => c.Check == SignatureCheck.Invalid))
        {
            keys = await signingKey.RefreshAsync(cancellationToken);
            checks = [.. checks.Select(c => c.Check == SignatureCheck.Invalid ? (c.Secret, ManagedSecretSignature.Verify(keys, c.Secret, Sources(c.Secret))) : c)];
        }
        var work = checks.Where(c => c.Check != SignatureCheck.Invalid).ToList();
        // Only refs the policies still allow for the Secret's namespace and service account are read at all.
        // Each read is keyed by who reads it: a backend with identity: pod reads as the Secret's signed service account.
        var wanted = new Dictionary<V1Secret, List<ReadKey>>(ReferenceEqualityComparer.Instance);
        foreach (var (secret, _) in work)
            wanted.TryAdd(secret, ReadKeys(secret));
        var reads = (await Task.WhenAll(wanted.Values.SelectMany(k => k).Distinct().Select(async k => (Key: k, Read: await limiter.RunAsync(k.Location.Backend, () => reader.ReadAsync(k, cancellationToken), cancellationToken)))))
            .ToDictionary(r => r.Key, r => r.Read);
        // This replica's admissions should not fill new Secrets with values older than the ones just rotated in.
        foreach (var (key, read) in reads)
            cache.Refresh(read, key.As);
        // What is written is decided with the policies as they are now: one revoked while the reads were in flight holds.
        _decisions.Clear();

        foreach (var (secret, _) in checks.Where(c => c.Check == SignatureCheck.Invalid))
            results.Add(await UnverifiedAsync(secret, cancellationToken));
        await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (item, token) =>
        {
            ReconcileResult result;
            using var span = SyncTracing.StartSecret(item.Secret);
            try
            {
                result = await ReconcileAsync(item.Secret, item.Check is SignatureCheck.Previous or SignatureCheck.Legacy, keys, wanted[item.Secret].ToDictionary(k => k.Location, k => reads[k]), token);
            }
            catch (ClusterApiException e)
            {
                // One Secret gone or unreadable (a 404 on a re-read) must not fail the others of the pass: it backs off alone.
                metrics.Rotations.WithLabels("error").Inc();
                LogUpdateFailed(log, item.Secret.Metadata.NamespaceProperty, item.Secret.Metadata.Name, e.Message);
                result = new ReconcileResult(item.Secret.Metadata.NamespaceProperty, item.Secret.Metadata.Name, ReconcileStatus.Failed, e.Message, settings.RetryAfterFailure, Backoff: true);
            }
            lock (results)
                results.Add(SyncTracing.EndSecret(span, result));
        });
        SyncTracing.EndPass(pass, results);
        return results;
    }

    /// <summary>
    /// The informer keeps only the identity of a Secret it could not verify: such a Secret is read again, one at a time
    /// (each may be as large as a Secret can be), and decided from what the API server holds now; so is one kept as
    /// verified with a key that is no longer the current one. One that is gone is dropped; one that cannot be read is
    /// retried later, never taken for a forgery.
    /// </summary>
    private async Task<(List<V1Secret> Whole, List<ReconcileResult> Unread)> ReadStubsAgainAsync(IReadOnlyList<V1Secret> due, SigningKeys keys, CancellationToken cancellationToken)
    {
        var whole = new List<V1Secret>(due.Count);
        var unread = new List<ReconcileResult>();
        foreach (var secret in due)
        {
            if (secret is KeptSecret kept ? kept.VerifiedWith(keys.Current) : !ManagedSecretInformer.IsStub(secret))
            {
                whole.Add(secret);
                continue;
            }
            try
            {
                whole.Add(await cluster.ReadSecretAsync(secret.Metadata.NamespaceProperty, secret.Metadata.Name, cancellationToken));
            }
            catch (ClusterApiException e) when (e.IsNotFound)
            {
                unread.Add(new ReconcileResult(secret.Metadata.NamespaceProperty, secret.Metadata.Name, ReconcileStatus.Unchanged, "gone", settings.UnverifiedRequeue));
            }
            catch (ClusterApiException e)
            {
                unread.Add(new ReconcileResult(secret.Metadata.NamespaceProperty, secret.Metadata.Name, ReconcileStatus.Failed, e.Message, settings.RetryAfterFailure, Backoff: true));
            }
        }
        return (whole, unread);
    }

    /// <summary>Left alone: not read, not written, one Event per version of the object, and a long requeue.</summary>
    private async Task<ReconcileResult> UnverifiedAsync(V1Secret secret, CancellationToken cancellationToken)
    {
        var ns = secret.Metadata.NamespaceProperty;
        var name = secret.Metadata.Name;
        metrics.Rotations.WithLabels("rejected").Inc();
        if (_reportedUnverified.Count >= ReportedCapacity)
            _reportedUnverified.Clear();
        if (_reportedUnverified.TryAdd($"{secret.Metadata.Uid}/{secret.Metadata.ResourceVersion}", 0))
        {
            LogUnverified(log, ns, name);
            await cluster.RecordEventAsync(ObjectReferences.Of("v1", "Secret", secret.Metadata), "Warning", "Unverified",
                "labelled as managed by config-injector but not signed by it: its refs are not read and it is not rotated", cancellationToken);
        }
        return new ReconcileResult(ns, name, ReconcileStatus.Failed, "signature does not match", settings.UnverifiedRequeue);
    }

    private async Task<ReconcileResult> ReconcileAsync(V1Secret secret, bool signedWithPreviousKey, SigningKeys keys, IReadOnlyDictionary<SecretLocation, SecretRead> reads, CancellationToken cancellationToken)
    {
        // The informer's copy must stay what the API server has (a failed write must not look like a done one): it
        // is planned against as it is and copied only when there is something to write, which most passes find not.
        // A copy kept without its values (it did not verify when it arrived, e.g. before a key rotation reached this
        // replica) is read again: planning against no values would take every value for a change.
        var owned = false;
        if (secret.Data is null && secret is not KeptSecret)
        {
            owned = true;
            secret = await cluster.ReadSecretAsync(secret.Metadata.NamespaceProperty, secret.Metadata.Name, cancellationToken);
            var check = ManagedSecretSignature.Verify(keys, secret);
            if (check == SignatureCheck.Invalid)
                return await UnverifiedAsync(secret, cancellationToken);
            signedWithPreviousKey = check is SignatureCheck.Previous or SignatureCheck.Legacy;
        }
        var ns = secret.Metadata.NamespaceProperty;
        var name = secret.Metadata.Name;
        for (var attempt = 1; ; attempt++)
        {
            var current = secret;
            // Keys of dynamic refs are the lease keeper's (LeaseKeeper): never re-read here, kept as they are when others change.
            var allSources = Sources(secret)!;
            var sources = WithoutDynamic(current, allSources);
            var composed = Composed(secret);
            var rotation = ManagedSecretFactory.ReadRotation(secret) with { Interval = Interval(secret, sources, composed) };
            var values = secret is KeptSecret kept ? kept.Held : HeldValues.Of(Strings(secret.Data));
            var outcome = RotationPlanner.Plan(values, sources, reads, r => Decide(current, r.ToString()).Refusal);
            // Keys composed from several refs (templates, formatted files) are rendered again when any of them changed.
            var composedOutcome = ComposedRotation.Plan(values, composed, reads, r => Decide(current, r.ToString()).Refusal);
            var failures = outcome.Failures.Concat(composedOutcome.Failures).ToList();
            var changed = outcome.Changed || composedOutcome.Changed;
            if ((changed || signedWithPreviousKey) && secret is KeptSecret)
            {
                // Only digests were kept: the write is planned against the Secret as the API server holds it now.
                cancellationToken.ThrowIfCancellationRequested();
                secret = await cluster.ReadSecretAsync(ns, name, cancellationToken);
                owned = true;
                var check = ManagedSecretSignature.Verify(keys, secret);
                if (check == SignatureCheck.Invalid)
                    return await UnverifiedAsync(secret, cancellationToken);
                signedWithPreviousKey = check is SignatureCheck.Previous or SignatureCheck.Legacy;
                attempt--;
                continue;
            }
            var retry = rotation.Interval;
            var backoff = failures.Count > 0;
            if (backoff)
            {
                var reason = string.Join("; ", failures);
                var previous = _failing.GetValueOrDefault($"{ns}/{name}");
                if (_failing.Count >= ReportedCapacity)
                    _failing.Clear();
                _failing[$"{ns}/{name}"] = reason;
                // The worker's queue backs off up to the interval; an Event only when the reason changes, not on every retry.
                metrics.Rotations.WithLabels("error").Inc();
                LogBackendFailures(log, ns, name, reason);
                if (previous != reason)
                {
                    await cluster.RecordEventAsync(ObjectReferences.Of("v1", "Secret", secret.Metadata), "Warning", "NotRefreshed",
                        $"kept the last-known-good values: {reason}", cancellationToken);
                }
            }
            else
            {
                _failing.TryRemove($"{ns}/{name}", out _);
            }
            if (!changed && !signedWithPreviousKey)
            {
                if (failures.Count == 0)
                    metrics.Rotations.WithLabels("unchanged").Inc();
                return new ReconcileResult(ns, name, failures.Count > 0 ? ReconcileStatus.Failed : ReconcileStatus.Unchanged,
                    failures.Count > 0 ? string.Join("; ", failures) : null, retry, backoff);
            }

            // Leadership can end at any await: a cancelled token stops the write before it is sent.
            cancellationToken.ThrowIfCancellationRequested();
            if (!owned)
            {
                secret = ManagedSecretFactory.Copy(secret);
                owned = true;
            }
            var previousData = secret.Data;
            secret.Data = outcome.Data.ToDictionary(d => d.Key, d => Encoding.UTF8.GetBytes(d.Value));
            foreach (var key in allSources.Keys.Where(k => !sources.ContainsKey(k) && previousData?.ContainsKey(k) == true))
                secret.Data[key] = previousData![key];
            foreach (var (key, value) in composedOutcome.Data)
                secret.Data[key] = Encoding.UTF8.GetBytes(value);
            secret.Metadata.Annotations[ManagedSecretFactory.SourcesAnnotation] = ManagedSecretFactory.SerializeSources(allSources.Count == sources.Count ? outcome.Sources
                : outcome.Sources.Concat(allSources.Where(s => !sources.ContainsKey(s.Key))).ToDictionary());
            if (composed.Count > 0)
                secret.Metadata.Annotations[ComposedSources.Annotation] = ComposedSources.Serialize(composedOutcome.Composed);
            // The restart that is due is recorded in the same write as the values that make it due: a leader that
            // ends right after the write leaves it to the next one, never lost between the two.
            var restartDue = (outcome.EnvChanged || composedOutcome.EnvChanged) && rotation.OnChange == RotationMode.Restart;
            var changedRefs = outcome.ChangedKeys.Concat(outcome.NewVersionOnlyKeys).Select(k => $"{outcome.Sources[k].Ref}@{outcome.Sources[k].Version}")
                .Concat(composedOutcome.ChangedKeys.Concat(composedOutcome.NewVersionOnlyKeys).SelectMany(k => composedOutcome.Composed[k].Versions.Select(v => $"{v.Key}@{v.Value}")))
                .Distinct(StringComparer.Ordinal).ToList();
            SyncTracing.Changed(changedRefs);
            if (restartDue)
                RestartRecord.Set(secret, time.GetUtcNow(), Debounce(secret, sources, composed), changedRefs, keys);
            // A Secret still signed with the previous key (or in the first release's format) gets the current one,
            // so the old key can be retired.
            ManagedSecretSignature.Upgrade(keys.Current, secret);
            try
            {
                await cluster.ReplaceSecretAsync(secret, cancellationToken);
            }
            catch (ClusterApiException e) when (e.IsConflict && attempt < UpdateAttempts)
            {
                // Someone else wrote it since our read (an admission, another leader, or someone editing it by hand):
                // re-plan from the fresh object, which must be signed like the first one.
                secret = await cluster.ReadSecretAsync(ns, name, cancellationToken);
                var check = ManagedSecretSignature.Verify(keys, secret);
                if (check == SignatureCheck.Invalid)
                    return await UnverifiedAsync(secret, cancellationToken);
                signedWithPreviousKey = check is SignatureCheck.Previous or SignatureCheck.Legacy;
                continue;
            }
            catch (ClusterApiException e)
            {
                metrics.Rotations.WithLabels("error").Inc();
                var reason = e.Message;
                LogUpdateFailed(log, ns, name, reason);
                return new ReconcileResult(ns, name, ReconcileStatus.Failed, reason, settings.RetryAfterFailure < rotation.Interval ? settings.RetryAfterFailure : rotation.Interval);
            }

            if (!changed)
            {
                LogResigned(log, ns, name);
                return new ReconcileResult(ns, name, ReconcileStatus.Unchanged, null, retry, backoff);
            }
            metrics.Rotations.WithLabels("updated").Inc();
            var changes = string.Join(", ", outcome.ChangedKeys.Concat(outcome.NewVersionOnlyKeys).Select(k => $"{k} <- {outcome.Sources[k].Ref}@{outcome.Sources[k].Version}")
                .Concat(composedOutcome.ChangedKeys.Concat(composedOutcome.NewVersionOnlyKeys)
                    .Select(k => $"{k} <- {string.Join(" + ", composedOutcome.Composed[k].Versions.Select(v => $"{v.Key}@{v.Value}"))}")));
            LogRotated(log, ns, name, changes);
            await cluster.RecordEventAsync(ObjectReferences.Of("v1", "Secret", secret.Metadata), "Normal", "Rotated", $"updated {changes}", cancellationToken);
            if (restartDue)
                restarts.Track(secret);
            return new ReconcileResult(ns, name, ReconcileStatus.Updated, null, retry, backoff);
        }
    }

    /// <summary>The sources whose refs the policies allow as dynamic left out (the same object when there are none).</summary>
    private IReadOnlyDictionary<string, KeySource> WithoutDynamic(V1Secret secret, IReadOnlyDictionary<string, KeySource> sources) =>
        sources.Values.Any(s => IsDynamic(secret, s.Ref)) ? sources.Where(s => !IsDynamic(secret, s.Value.Ref)).ToDictionary() : sources;

    private bool IsDynamic(V1Secret secret, string reference) =>
        ReferenceParser.Parse(reference) is { IsOk: true } parsed
        && PolicyEvaluator.Evaluate(policies.Current, ReadIdentity.Of(secret), parsed.Value!).Dynamic;

    /// <summary>What to read for a Secret: the locations of the refs the policies still allow, as whom it is read.</summary>
    private List<ReadKey> ReadKeys(V1Secret secret) =>
        [.. RotationPlanner.Locations(WithoutDynamic(secret, Sources(secret)!).Where(s => Decide(secret, s.Value.Ref).Refusal is null).ToDictionary())
            .Concat(Composed(secret) is { Count: > 0 } composed
                ? ComposedRotation.Locations(composed.Where(c => c.Value.Refs().All(r => Decide(secret, r.ToString(), pathOnly: c.Value.From is not null).Refusal is null)).ToDictionary())
                : [])
            .Distinct().Select(l => reader.KeyFor(l, ReadIdentity.Of(secret)))];

    /// <summary>
    /// Why a ref of this Secret must not be refreshed any more (null when it may), and the policy's interval for it:
    /// policies are checked on every pass, not only at admission.
    /// </summary>
    /// <param name="pathOnly">For the path of a formatted file: whether some rule allows the path (its keys are decided once read).</param>
    private (string? Refusal, RotationSettings Rotation) Decide(V1Secret secret, string reference, bool pathOnly = false)
    {
        var subject = new Subject(secret.Metadata.NamespaceProperty, ManagedSecretFactory.ServiceAccount(secret) ?? "default");
        // Thousands of Secrets share a few subjects and refs: decide each combination once per pass.
        return _decisions.GetOrAdd((subject, reference, pathOnly), key =>
        {
            var parsed = ReferenceParser.Parse(key.Reference);
            if (!parsed.IsOk)
                return (parsed.Error, RotationSettings.Default);
            var decision = PolicyEvaluator.Evaluate(policies.Current, key.Subject, parsed.Value!, key.PathOnly);
            return decision.Allowed ? (null, decision.Rotation) : ($"{decision.Reason} any more; the last value is kept but not refreshed", decision.Rotation);
        });
    }

    /// <summary>The interval the policies give the Secret's refs now (the strictest), else the one signed at admission.</summary>
    private TimeSpan Interval(V1Secret secret, IReadOnlyDictionary<string, KeySource> sources, IReadOnlyDictionary<string, ComposedSource> composed) =>
        Allowed(secret, sources, composed).Select(d => d.Rotation.Interval).DefaultIfEmpty(ManagedSecretFactory.ReadRotation(secret).Interval).Min();

    /// <summary>The debounce the policies give the Secret's refs now (the shortest), else the default.</summary>
    private TimeSpan Debounce(V1Secret secret, IReadOnlyDictionary<string, KeySource> sources, IReadOnlyDictionary<string, ComposedSource> composed) =>
        Allowed(secret, sources, composed).Select(d => d.Rotation.Debounce).DefaultIfEmpty(RotationSettings.DefaultDebounce).Min();

    private IEnumerable<(string? Refusal, RotationSettings Rotation)> Allowed(V1Secret secret, IReadOnlyDictionary<string, KeySource> sources, IReadOnlyDictionary<string, ComposedSource> composed) =>
        sources.Values.Select(s => Decide(secret, s.Ref))
            .Concat(composed.Values.SelectMany(c => c.Refs().Select(r => Decide(secret, r.ToString(), pathOnly: c.From is not null))))
            .Where(d => d.Refusal is null);

    private IReadOnlyDictionary<string, KeySource>? Sources(V1Secret secret) =>
        secret.Metadata?.Annotations?.TryGetValue(ManagedSecretFactory.SourcesAnnotation, out var json) == true && json is not null
            ? _sources.GetOrAdd(json, ManagedSecretFactory.ParseSources)
            : null;

    /// <summary>The Secret's composed keys; none when it has no such annotation (its signature covers the annotation).</summary>
    private static IReadOnlyDictionary<string, ComposedSource> Composed(V1Secret secret) =>
        secret.Metadata?.Annotations?.TryGetValue(ComposedSources.Annotation, out var json) == true ? ComposedSources.Parse(json) ?? Empty : Empty;

    private static readonly Dictionary<string, ComposedSource> Empty = [];

    private static Dictionary<string, string> Strings(IDictionary<string, byte[]>? data) =>
        data?.ToDictionary(d => d.Key, d => Encoding.UTF8.GetString(d.Value), StringComparer.Ordinal) ?? [];

    [LoggerMessage(Level = LogLevel.Warning, Message = "managed Secret {Namespace}/{Name} is not signed by config-injector; ignored")]
    private static partial void LogUnverified(ILogger logger, string @namespace, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "managed Secret {Namespace}/{Name} signed again with the current key")]
    private static partial void LogResigned(ILogger logger, string @namespace, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "rotated managed Secret {Namespace}/{Name}: {Changes}")]
    private static partial void LogRotated(ILogger logger, string @namespace, string name, string changes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "managed Secret {Namespace}/{Name}: kept last-known-good values: {Failures}")]
    private static partial void LogBackendFailures(ILogger logger, string @namespace, string name, string failures);

    [LoggerMessage(Level = LogLevel.Warning, Message = "managed Secret {Namespace}/{Name} not updated: {Reason}")]
    private static partial void LogUpdateFailed(ILogger logger, string @namespace, string name, string reason);
}
