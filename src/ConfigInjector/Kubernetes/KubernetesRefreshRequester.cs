using System.Globalization;
using System.Text.Json.Nodes;
using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Planning;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Report;
using ConfigInjector.Core.Templates;
using ConfigInjector.ManagedSecrets;
using ConfigInjector.Sync;
using k8s;
using k8s.Models;

namespace ConfigInjector.Kubernetes;

/// <summary>
/// "Refresh now" through the API server: every managed Secret whose signed sources use a ref matching a pattern gets a
/// new <see cref="AnnotationKeys.Refresh"/> value (a merge patch of that one annotation, as <c>kubectl annotate
/// --overwrite</c> sends it), and the leader, wherever it runs, makes it due. So any replica, and the CLI, can ask.
/// </summary>
internal sealed partial class KubernetesRefreshRequester(IKubernetes client, ISigningKey signingKey, TimeProvider time, ILogger<KubernetesRefreshRequester> log) : IRefreshRequester
{
    private const int PageSize = 500;
    private const int Parallelism = 8;

    public async Task<RefreshOutcome> RequestAsync(IReadOnlyList<RefPattern> patterns, string trigger, CancellationToken cancellationToken) =>
        (await AnnotateAsync(patterns, null, trigger, cancellationToken)).Outcome;

    /// <param name="namespaceName">Only this namespace's Secrets (null: every namespace).</param>
    public async Task<RefreshResult> AnnotateAsync(IReadOnlyList<RefPattern> patterns, string? namespaceName, string trigger, CancellationToken cancellationToken)
    {
        SigningKeys? keys;
        try
        {
            keys = await signingKey.GetAsync(cancellationToken);
        }
        catch (ManagedSecretException e)
        {
            // The CLI's user may not read the install's key: the Secrets' own claims are used, and the leader, which
            // verifies each before it reads anything, ignores a forged one as it always does.
            LogUnverified(log, e.Message);
            keys = null;
        }
        var matched = new HashSet<RefPattern>();
        var targets = new List<(string Namespace, string Name)>();
        string? next = null;
        do
        {
            var page = await KubernetesErrors.Call(() => namespaceName is null
                ? client.CoreV1.ListSecretForAllNamespacesAsync(labelSelector: ManagedSecretFactory.ManagedBySelector, limit: PageSize, continueParameter: next, cancellationToken: cancellationToken)
                : client.CoreV1.ListNamespacedSecretAsync(namespaceName, labelSelector: ManagedSecretFactory.ManagedBySelector, limit: PageSize, continueParameter: next, cancellationToken: cancellationToken),
                "list", "secrets", namespaceName);
            foreach (var secret in page.Items)
            {
                if (keys is not null && ManagedSecretSignature.Verify(keys, secret) == SignatureCheck.Invalid)
                    continue;
                var refs = Refs(secret);
                var hits = patterns.Where(p => refs.Any(p.Matches)).ToList();
                if (hits.Count == 0)
                    continue;
                matched.UnionWith(hits);
                targets.Add((secret.Metadata.NamespaceProperty, secret.Metadata.Name));
            }
            next = page.Metadata?.ContinueProperty;
        }
        while (!string.IsNullOrEmpty(next));

        var patch = new V1Patch(new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [AnnotationKeys.Refresh] = NewValue(trigger) } } }.ToJsonString(), V1Patch.PatchType.MergePatch);
        var annotated = new List<(string Namespace, string Name)>();
        await Parallel.ForEachAsync(targets, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken }, async (target, token) =>
        {
            try
            {
                await KubernetesErrors.Call(() => client.CoreV1.PatchNamespacedSecretAsync(patch, target.Name, target.Namespace, cancellationToken: token), "patch", "secrets", target.Namespace);
            }
            catch (ClusterApiException e) when (e.IsNotFound)
            {
                // Collected since the list: nothing left to refresh.
                return;
            }
            lock (annotated)
                annotated.Add(target);
        });
        var unknown = patterns.Where(p => !matched.Contains(p)).ToList();
        LogRequested(log, trigger, annotated.Count, string.Join(", ", matched), unknown.Count);
        return new RefreshResult(new RefreshOutcome([.. patterns.Where(matched.Contains)], unknown, annotated.Count),
            [.. annotated.OrderBy(a => a.Namespace, StringComparer.Ordinal).ThenBy(a => a.Name, StringComparer.Ordinal)], keys is not null);
    }

    /// <summary>Every ref the Secret's sources and composed keys name (those that parse).</summary>
    private static List<SecretReference> Refs(V1Secret secret)
    {
        var refs = (ManagedSecretFactory.ReadSources(secret)?.Values ?? [])
            .Select(s => ReferenceParser.Parse(s.Ref)).Where(r => r.IsOk).Select(r => r.Value!).ToList();
        if (secret.Metadata?.Annotations?.TryGetValue(ComposedSources.Annotation, out var json) == true && ComposedSources.Parse(json) is { } composed)
            refs.AddRange(composed.Values.SelectMany(c => c.Refs()));
        return refs;
    }

    /// <summary>A value the Secret has not carried before: when, who asked, and a random tag for two requests in the same millisecond.</summary>
    private string NewValue(string trigger) =>
        $"{time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)} {trigger} {Random.Shared.Next(0x10000):x4}";

    [LoggerMessage(Level = LogLevel.Information, Message = "refresh requested by {Trigger}: {Count} managed Secrets annotated for {Matched}; {Unknown} patterns no Secret uses")]
    private static partial void LogRequested(ILogger logger, string trigger, int count, string matched, int unknown);

    [LoggerMessage(Level = LogLevel.Warning, Message = "the install's signing key could not be read ({Reason}): Secrets are matched by their own claims")]
    private static partial void LogUnverified(ILogger logger, string reason);
}

/// <summary>What <see cref="KubernetesRefreshRequester.AnnotateAsync"/> did: the outcome, the Secrets annotated, and whether their signatures were checked.</summary>
internal sealed record RefreshResult(RefreshOutcome Outcome, IReadOnlyList<(string Namespace, string Name)> Annotated, bool Verified);
