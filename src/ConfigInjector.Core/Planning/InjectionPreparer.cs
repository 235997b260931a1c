using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Text;
using k8s.Models;

namespace ConfigInjector.Core.Planning;

/// <summary>
/// Step one of planning, before any backend is read: pick target containers, collect every reference,
/// check that its backend exists and that a SecretPolicy allows it. A denied ref is never read.
/// </summary>
public static class InjectionPreparer
{
    /// <summary>A denial lists this many reasons at most: a hostile pod must not make the message grow with its size.</summary>
    public const int MaxErrors = 20;

    /// <summary>Distinct refs one pod may ask for: each is checked against every policy and read from a backend.</summary>
    public const int MaxRefs = 500;

    /// <summary>
    /// Versions of one path a pod may pin (<c>@version</c>): policies decide paths, not versions, and each pinned
    /// version is a read of its own, so a pod must not turn one allowed path into hundreds of backend reads.
    /// </summary>
    public const int MaxPinnedVersionsPerPath = 4;

    public static StepOutcome<PreparedInjection> Prepare(
        V1Pod pod,
        string podNamespace,
        InjectionRequest request,
        IReadOnlyList<SecretPolicy> policies,
        IReadOnlyDictionary<string, BackendInfo> backends,
        IReadOnlyList<ConfigProfile>? profiles = null,
        IReadOnlyList<string>? earlierWarnings = null)
    {
        var errors = new List<string>();
        // Each planning step carries the warnings of the steps before it: the last one holds them all.
        var warnings = new List<string>(earlierWarnings ?? []);
        var subject = new Subject(podNamespace, string.IsNullOrEmpty(pod.Spec?.ServiceAccountName) ? "default" : pod.Spec.ServiceAccountName);

        var targets = SelectTargets(pod, request, errors);
        var inline = FindInlineRefs(pod, errors);
        CheckFilesMount(pod, request, targets, errors);
        var (profileEnv, profileRequests) = ApplyProfiles(pod, podNamespace, request, profiles ?? [], errors, warnings);
        if (profileRequests.Count > 0)
            request = request with { Env = [.. request.Env, .. profileRequests] };

        // A template's refs are checked one by one, like secret. refs: composing them grants nothing more.
        var explicitRefs = request.Env.Select(e => e.Ref)
            .Concat(request.Files.Select(f => f.Ref))
            .Concat(inline.Select(i => i.Ref))
            .Concat(request.Composed.Where(c => c.Template is not null).SelectMany(c => c.Refs))
            .Distinct()
            .ToList();
        var pathRefs = request.Composed.Select(c => c.From).Append(request.SecretsFrom).OfType<SecretReference>().Distinct().ToList();

        if (explicitRefs.Count + pathRefs.Count > MaxRefs)
        {
            errors.Add($"the pod asks for {explicitRefs.Count + pathRefs.Count} distinct refs; at most {MaxRefs} are injected into one pod");
            return new StepOutcome<PreparedInjection>(null, errors, warnings) { Requested = [.. explicitRefs.Take(MaxRefs).Select(r => r.ToString())] };
        }

        var overPinned = !explicitRefs.Concat(pathRefs).Any(r => r.Version is not null) ? null : explicitRefs.Concat(pathRefs).Where(r => r.Version is not null)
            .GroupBy(r => (r.Backend, r.Path)).FirstOrDefault(g => g.Select(r => r.Version).Distinct().Count() > MaxPinnedVersionsPerPath);
        if (overPinned is not null)
        {
            errors.Add($"the pod pins {overPinned.Select(r => r.Version).Distinct().Count()} versions of {overPinned.Key.Backend}:{overPinned.Key.Path}; at most {MaxPinnedVersionsPerPath} versions of one path are read for one pod");
            return new StepOutcome<PreparedInjection>(null, errors, warnings) { Requested = [.. explicitRefs.Take(MaxRefs).Select(r => r.ToString())] };
        }

        var decisions = new Dictionary<SecretReference, PolicyDecision>();
        var denied = false;
        PolicyDecision? Decide(SecretReference reference, bool pathOnly)
        {
            if (!backends.ContainsKey(reference.Backend))
            {
                errors.Add($"{reference}: backend \"{reference.Backend}\" is not configured (configured: {string.Join(", ", backends.Keys.Order())})");
                return null;
            }
            var decision = PolicyEvaluator.Evaluate(policies, subject, reference, pathOnly);
            if (!decision.Allowed)
            {
                denied = true;
                errors.Add(decision.Reason);
            }
            return decision;
        }
        foreach (var reference in explicitRefs)
        {
            if (Decide(reference, pathOnly: false) is { } decision)
                decisions[reference] = decision;
        }
        // Kept apart from the explicit refs: a keyless ref to the same path must still pass the rules' keys, each of
        // them once the path is read.
        var pathDecisions = new Dictionary<SecretReference, PolicyDecision>();
        foreach (var reference in pathRefs)
        {
            if (Decide(reference, pathOnly: true) is { } decision)
                pathDecisions[reference] = decision;
        }
        var secretsFromDecision = request.SecretsFrom is { } from ? pathDecisions.GetValueOrDefault(from) : null;

        if (errors.Count > 0)
        {
            var requested = explicitRefs.Concat(pathRefs).Distinct().Select(r => r.ToString()).ToList();
            return new StepOutcome<PreparedInjection>(null, [.. errors.Take(MaxErrors)], warnings, denied) { Requested = requested };
        }

        var locations = decisions.Keys.Concat(pathRefs).Select(r => r.Location).Distinct().ToList();
        var prepared = new PreparedInjection(subject, request, targets, inline, profileEnv, policies, decisions, secretsFromDecision, locations, backends, warnings)
        {
            PathDecisions = pathDecisions,
        };
        return new StepOutcome<PreparedInjection>(prepared, [], warnings);
    }

    /// <summary>
    /// Every ref a pod asks for — annotations, <c>configinjector:</c> env values and the secretEnv of the profiles that
    /// apply — for the audit line of a pod denied before planning (a malformed annotation).
    /// </summary>
    public static IReadOnlyList<string> RequestedRefs(V1Pod pod, string podNamespace, InjectionRequest request, IReadOnlyList<ConfigProfile>? profiles)
    {
        var ignored = new List<string>();
        var (_, profileRequests) = ApplyProfiles(pod, podNamespace, request, profiles ?? [], ignored, ignored);
        return [.. request.Env.Select(e => e.Ref)
            .Concat(request.Files.Select(f => f.Ref))
            .Concat(FindInlineRefs(pod, ignored).Select(i => i.Ref))
            .Concat(profileRequests.Select(p => p.Ref))
            .Concat(request.Composed.SelectMany(c => c.Refs))
            .Append(request.SecretsFrom)
            .OfType<SecretReference>()
            .Select(r => r.ToString())
            .Distinct()];
    }

    /// <summary>
    /// Profiles named by the annotation or selected by namespace and labels, in name order. What the pod's own
    /// annotations set wins over a profile; between profiles the first by name wins, with a warning.
    /// </summary>
    private static (List<ProfileEnv> Env, List<EnvRequest> Secrets) ApplyProfiles(
        V1Pod pod, string podNamespace, InjectionRequest request, IReadOnlyList<ConfigProfile> profiles, List<string> errors, List<string> warnings)
    {
        var env = new List<ProfileEnv>();
        var secrets = new List<EnvRequest>();
        if (request.Profiles.Count > 0)
            CheckNamedProfiles(podNamespace, request, profiles, errors);
        var labels = pod.Metadata?.Labels?.AsReadOnly();
        var named = request.Profiles.Count == 0 ? null : request.Profiles.ToHashSet(StringComparer.Ordinal);
        var applying = profiles.Where(p => named?.Contains(p.Name) == true || p.Selector?.Matches(podNamespace, labels) == true).ToList();
        if (applying.Count == 0)
            return (env, secrets);
        var applied = applying.OrderBy(p => p.Name, StringComparer.Ordinal);

        var taken = request.Env.Select(e => (e.Name, e.Annotation))
            .Concat(request.Composed.Where(c => c.Kind == ComposedKind.Env).Select(c => (c.Name, c.Annotation)))
            .ToDictionary(e => e.Name, e => e.Annotation, StringComparer.Ordinal);
        foreach (var profile in applied)
        {
            var source = $"ConfigProfile {profile.Name}";
            foreach (var (name, value) in profile.Env.OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                if (Take(taken, name, source, warnings))
                    env.Add(new ProfileEnv(name, value, profile.Name));
            }
            foreach (var (name, reference) in profile.SecretEnv.OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                if (Take(taken, name, source, warnings))
                    secrets.Add(new EnvRequest(name, reference, EnvSource.Secret, source) { FromProfile = true });
            }
        }
        return (env, secrets);
    }

    private static void CheckNamedProfiles(string podNamespace, InjectionRequest request, IReadOnlyList<ConfigProfile> profiles, List<string> errors)
    {
        var known = profiles.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        // A denial names only the profiles this pod could use: any pod may name one without a selector, and one with a
        // selector is meant for the namespaces it names. The others' names are not the pod's business.
        var visible = profiles.Where(p => p.Selector is null || p.Selector.Namespaces.Any(n => Glob.MatchName(n, podNamespace))).Select(p => p.Name);
        string? knownText = null;
        foreach (var missing in request.Profiles.Distinct(StringComparer.Ordinal).Where(n => !known.Contains(n)).Take(MaxErrors))
            errors.Add($"{AnnotationKeys.Profiles}: ConfigProfile \"{Quote.Short(missing)}\" not found (known: {knownText ??= Quote.Short(string.Join(", ", visible.Order(StringComparer.Ordinal)))})");
    }

    private static bool Take(Dictionary<string, string> taken, string name, string source, List<string> warnings)
    {
        if (!taken.TryGetValue(name, out var owner))
        {
            taken[name] = source;
            return true;
        }
        if (owner.StartsWith("ConfigProfile ", StringComparison.Ordinal))
            warnings.Add($"{source} also sets {name}; {owner} wins");
        return false;
    }

    private static List<TargetContainer> SelectTargets(V1Pod pod, InjectionRequest request, List<string> errors)
    {
        var regular = Containers(pod.Spec?.Containers, ContainerKind.Regular);
        var init = Containers(pod.Spec?.InitContainers, ContainerKind.Init);
        if (request.Containers is null)
            return request.InitContainers ? [.. init, .. regular] : regular;

        // Looked up by name: a pod may hold many containers and the annotation many names.
        var regularByName = ByName(regular);
        var initByName = ByName(init);
        var selected = new List<TargetContainer>();
        foreach (var name in request.Containers.Distinct(StringComparer.Ordinal))
        {
            if (regularByName.TryGetValue(name, out var match))
                selected.Add(match);
            else if (initByName.TryGetValue(name, out var initMatch) && request.InitContainers)
                selected.Add(initMatch);
            else if (initByName.ContainsKey(name))
                errors.Add($"{AnnotationKeys.Containers}: \"{Quote.Short(name)}\" is an init container; set {AnnotationKeys.InitContainers}: \"true\" to inject it");
            else
                errors.Add($"{AnnotationKeys.Containers}: no container named \"{Quote.Short(name)}\" (containers: {Quote.Short(string.Join(", ", regular.Concat(init).Select(c => c.Name)))})");
            if (errors.Count >= MaxErrors)
                break;
        }
        return selected;
    }

    private static Dictionary<string, TargetContainer> ByName(List<TargetContainer> containers)
    {
        var byName = new Dictionary<string, TargetContainer>(StringComparer.Ordinal);
        foreach (var container in containers)
            byName.TryAdd(container.Name, container);
        return byName;
    }

    private static List<TargetContainer> Containers(IList<V1Container>? containers, ContainerKind kind) =>
        containers is null ? [] : [.. containers.Select((c, i) => new TargetContainer(kind, i, c))];

    private static List<InlineEnvRequest> FindInlineRefs(V1Pod pod, List<string> errors)
    {
        var found = new List<InlineEnvRequest>();
        var all = Containers(pod.Spec?.InitContainers, ContainerKind.Init).Concat(Containers(pod.Spec?.Containers, ContainerKind.Regular));
        foreach (var container in all)
        {
            var env = container.Container.Env;
            for (var i = 0; env is not null && i < env.Count; i++)
            {
                var value = env[i].Value;
                if (value is null || !value.StartsWith(AnnotationKeys.InlineReferencePrefix, StringComparison.Ordinal))
                    continue;
                var parsed = ReferenceParser.Parse(value[AnnotationKeys.InlineReferencePrefix.Length..]);
                if (parsed.IsOk)
                    found.Add(new InlineEnvRequest(container, i, env[i].Name, parsed.Value!));
                else
                    errors.Add($"container {container.Name} env {env[i].Name}: \"{Quote.Short(value)}\": {parsed.Error}");
            }
        }
        return found;
    }

    private static void CheckFilesMount(V1Pod pod, InjectionRequest request, List<TargetContainer> targets, List<string> errors)
    {
        if (request.Files.Count == 0 && request.Composed.All(c => c.Kind != ComposedKind.File))
            return;
        if (pod.Spec?.Volumes?.Any(v => v.Name == InjectionPlan.FilesVolumeName) == true)
            errors.Add($"the pod already has a volume named {InjectionPlan.FilesVolumeName}; remove it or the file.* annotations");
        foreach (var target in targets)
        {
            var clash = target.Container.VolumeMounts?.FirstOrDefault(m => m.MountPath.TrimEnd('/') == request.FilesDir);
            if (clash is not null)
                errors.Add($"container {target.Name} already mounts {clash.Name} at {request.FilesDir}; set {AnnotationKeys.FilesDir} to another directory");
        }
    }
}
