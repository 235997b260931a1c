using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;

namespace ConfigInjector.Core.Templates;

/// <summary>One ref of a template: the policy's decision, the version found, or why it cannot be used (never a value).</summary>
public sealed record RefCheck(SecretReference Ref, PolicyDecision Decision, string? Version, string? Problem)
{
    public bool Ok => Decision.Allowed && Problem is null;
}

/// <summary>What <c>template check</c> shows for one template annotation: its refs and the shape it renders, values masked.</summary>
public sealed record ComposedCheck(ComposedRequest Request, IReadOnlyList<RefCheck> Refs, string? Shape, string? Problem)
{
    public bool Ok => Problem is null && Refs.All(r => r.Ok);
}

/// <summary>
/// Checks a template annotation as admission would, without putting any value anywhere: each ref against the
/// policies, each allowed ref against what was read, and the rendered text with every value replaced by a mask.
/// </summary>
public static class TemplateChecker
{
    public const string Mask = "****";

    /// <summary>The refs to read for <paramref name="request"/>: the allowed ones only, as admission would.</summary>
    public static IEnumerable<SecretLocation> Locations(ComposedRequest request, IReadOnlyList<SecretPolicy> policies, Subject subject) =>
        request.Refs.Where(r => PolicyEvaluator.Evaluate(policies, subject, r, pathOnly: request.From is not null).Allowed).Select(r => r.Location);

    public static ComposedCheck Check(ComposedRequest request, IReadOnlyList<SecretPolicy> policies, Subject subject, IReadOnlyDictionary<SecretLocation, SecretRead> reads)
    {
        if (request.Template is { } template)
        {
            var refs = request.Refs.Select(r => CheckRef(r, PolicyEvaluator.Evaluate(policies, subject, r), reads)).ToList();
            return new ComposedCheck(request, refs, Masked(template), null);
        }

        var path = request.From!;
        var pathDecision = PolicyEvaluator.Evaluate(policies, subject, path, pathOnly: true);
        var read = pathDecision.Allowed ? reads.GetValueOrDefault(path.Location) : null;
        if (read?.Status != ReadStatus.Found)
        {
            var problem = pathDecision.Allowed ? Unreadable(read) : null;
            return new ComposedCheck(request, [new RefCheck(path, pathDecision, null, problem)], null, null);
        }
        var document = read.Document!;
        var keys = document.Data.Keys.Order(StringComparer.Ordinal).ToList();
        var keyChecks = keys.Select(k => new RefCheck(path.WithKey(k), PolicyEvaluator.Evaluate(policies, subject, path.WithKey(k)), document.Version, null)).ToList();
        var shape = FileFormats.Render(request.Source.Format!.Value, keys.ToDictionary(k => k, _ => Mask, StringComparer.Ordinal));
        return new ComposedCheck(request, keyChecks, shape.IsOk ? shape.Value : null, shape.IsOk ? null : shape.Error);
    }

    /// <summary>The template's text with each placeholder (filters and all) replaced by <see cref="Mask"/>.</summary>
    public static string Masked(Template template) =>
        string.Concat(template.Parts.Select(p => p is Literal literal ? literal.Text : Mask));

    private static RefCheck CheckRef(SecretReference reference, PolicyDecision decision, IReadOnlyDictionary<SecretLocation, SecretRead> reads)
    {
        if (!decision.Allowed)
            return new RefCheck(reference, decision, null, null);
        var read = reads.GetValueOrDefault(reference.Location);
        if (read?.Status != ReadStatus.Found)
            return new RefCheck(reference, decision, null, Unreadable(read));
        var document = read.Document!;
        var problem = reference.Key is { } key
            ? document.Data.ContainsKey(key) ? null : $"the path has no key \"{key}\""
            : document.Data.Count == 1 ? null : $"the path holds {document.Data.Count} keys; name one with #<key>";
        return new RefCheck(reference, decision, document.Version, problem);
    }

    private static string Unreadable(SecretRead? read) => read switch
    {
        null => "not read",
        { Status: ReadStatus.NotFound } => $"not found: {read.Reason}",
        { Status: ReadStatus.Refused } => read.Reason!,
        _ => $"backend error: {read.Reason}",
    };
}
