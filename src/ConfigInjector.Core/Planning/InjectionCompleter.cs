using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;
using ConfigInjector.Core.Templates;
using k8s.Models;

namespace ConfigInjector.Core.Planning;

/// <summary>
/// Step two of planning, once the backends were read: pick each value, apply <c>onBackendError</c>,
/// expand <c>secrets-from</c>, lay out the managed Secret and the env/file changes per container.
/// </summary>
public static class InjectionCompleter
{
    public const int MaxEnvEntries = 10_000;

    /// <summary>
    /// Characters all of a pod's templates and formatted files may render together: Kubernetes keeps a Secret under
    /// 1 MiB, and a hostile pod must not make admission build hundreds of megabytes of text before that is found.
    /// </summary>
    public const int MaxComposedLength = 1024 * 1024;

    /// <summary>One env var to deliver; <c>Ref</c> is null for a literal profile setting.</summary>
    private sealed record Wanted(string Name, SecretReference? Ref, bool Plain)
    {
        /// <summary>Set for a <c>template.</c> env var: what it is made of, with the versions read.</summary>
        public ComposedSource? Composed { get; init; }
    }

    private sealed record Resolved(string Value, string Version)
    {
        public override string ToString() => $"Resolved(version {Version})";
    }

    public static StepOutcome<InjectionPlan> Complete(V1Pod pod, PreparedInjection prepared, IReadOnlyDictionary<SecretLocation, SecretRead> reads)
    {
        var state = new State(prepared, reads);
        var request = prepared.Request;

        // Precedence: the pod's own annotations, then its secrets-from keys, then profiles (secretEnv, then env).
        var annotationEnv = new List<(Wanted Want, Resolved Value)>();
        foreach (var env in request.Env.Where(e => !e.FromProfile))
            AddEnv(env);
        foreach (var composed in request.Composed.Where(c => c.Kind == ComposedKind.Env))
        {
            if (state.Compose(composed) is { } value)
                annotationEnv.Add((new Wanted(composed.Name, null, Plain: false) { Composed = value.Source }, new Resolved(value.Text, "composed")));
        }
        if (request.SecretsFrom is { } from)
        {
            var ownNames = request.Env.Where(e => !e.FromProfile).Select(e => e.Name)
                .Concat(request.Composed.Where(c => c.Kind == ComposedKind.Env).Select(c => c.Name)).ToHashSet();
            annotationEnv.AddRange(state.ExpandSecretsFrom(from, request.SecretsPrefix, ownNames));
        }
        foreach (var env in request.Env.Where(e => e.FromProfile && annotationEnv.All(a => a.Want.Name != e.Name)))
            AddEnv(env);
        var requested = annotationEnv.Select(a => a.Want.Name).ToHashSet(StringComparer.Ordinal);
        annotationEnv.AddRange(prepared.ProfileEnv.Where(p => !requested.Contains(p.Name))
            .Select(p => (new Wanted(p.Name, null, Plain: true), new Resolved(p.Value, "profile"))));

        void AddEnv(EnvRequest env)
        {
            var plain = env.Source == EnvSource.Config && !prepared.Backends[env.Ref.Backend].Sensitive;
            if (env.Source == EnvSource.Config && !plain)
                state.Warnings.Add($"{env.Annotation}: backend {env.Ref.Backend} is sensitive; delivered through the managed Secret");
            if (state.Value(env.Ref, prepared.Decisions[env.Ref]) is { } value)
                annotationEnv.Add((new Wanted(env.Name, env.Ref, plain), value));
        }

        var files = new List<(FileRequest File, Resolved Value)>();
        foreach (var file in request.Files)
        {
            if (state.Value(file.Ref, prepared.Decisions[file.Ref]) is { } value)
                files.Add((file, value));
        }

        var composedFiles = new List<(ComposedRequest File, ComposedSource Source, string Text)>();
        foreach (var file in request.Composed.Where(c => c.Kind == ComposedKind.File))
        {
            if (state.Compose(file) is { } value)
                composedFiles.Add((file, value.Source, value.Text));
        }

        var inline = new List<(InlineEnvRequest Inline, Resolved Value)>();
        foreach (var item in prepared.Inline)
        {
            if (state.Value(item.Ref, prepared.Decisions[item.Ref]) is { } value)
                inline.Add((item, value));
        }

        // Every env var goes to every target container: bound the product, not each factor, so a pod cannot make
        // the patch (and the work to build it) explode.
        var envEntries = (long)prepared.Targets.Count * annotationEnv.Count;
        if (envEntries > MaxEnvEntries)
            state.Errors.Add($"the pod asks for {annotationEnv.Count} env vars in {prepared.Targets.Count} containers ({envEntries} entries); at most {MaxEnvEntries} are injected into one pod");
        if (state.Errors.Count > 0)
            return new StepOutcome<InjectionPlan>(null, [.. state.Errors.Take(InjectionPreparer.MaxErrors)], state.Warnings, state.PolicyDenied);

        // Secret data keys: the env name where it is unique, else qualified by container; files under "file.".
        var keys = new SecretKeys();
        foreach (var (want, value) in annotationEnv.Where(a => !a.Want.Plain))
        {
            if (want.Composed is { } composed)
                keys.AddComposed(want.Name, composed, value.Value);
            else
                keys.Add(want.Name, want.Ref!, value);
        }
        var inlineKeys = inline.Select(i => keys.Add(i.Inline.Name, i.Inline.Ref, i.Value)).ToList();
        var inlineNamesByContainer = prepared.Inline.ToLookup(i => i.Container, i => i.Name);
        foreach (var (file, value) in files)
            keys.Add(ManagedSecretSpec.FileKeyPrefix + file.Name, file.Ref, value);
        var composedFileKeys = composedFiles.Select(f => keys.AddComposed(ManagedSecretSpec.FileKeyPrefix + f.File.Name, f.Source, f.Text)).ToList();
        var data = keys.Data;

        var secretName = data.Count == 0 ? null : ManagedSecretNaming.NameFor(pod, prepared.Subject.Namespace, keys.NameParts());
        var changes = new List<EnvChange>();
        for (var i = 0; i < inline.Count; i++)
            changes.Add(new EnvChange(inline[i].Inline.Container, SecretEnv(inline[i].Inline.Name, secretName!, inlineKeys[i]), inline[i].Inline.EnvIndex));

        foreach (var target in prepared.Targets)
            changes.AddRange(EnvChangesFor(target, annotationEnv, inlineNamesByContainer[target].ToHashSet(StringComparer.Ordinal), prepared, secretName, state.Warnings));

        var secretRefs = keys.Sources.Values.Concat(keys.Composed.Values.SelectMany(c => c.Versions.Keys));
        var secret = secretName is null ? null : new ManagedSecretSpec(secretName, prepared.Subject.Namespace, data, keys.Versions, Rotation(prepared, secretRefs), Owner(pod), prepared.Subject.ServiceAccount)
        {
            Composed = keys.Composed,
        };
        var fileItems = files.Select(f => new V1KeyToPath { Key = ManagedSecretSpec.FileKeyPrefix + f.File.Name, Path = f.File.Name })
            .Concat(composedFiles.Select((f, i) => new V1KeyToPath { Key = composedFileKeys[i], Path = f.File.Name }))
            .ToList();
        var plan = new InjectionPlan(
            changes,
            fileItems.Count > 0 ? prepared.Targets : [],
            fileItems,
            request.FilesDir,
            secret,
            string.Join(",", state.Used.Order(StringComparer.Ordinal)),
            [.. prepared.Decisions.Values.Concat(prepared.PathDecisions.Values)],
            state.Warnings)
        { Skipped = state.Skipped };
        return new StepOutcome<InjectionPlan>(plan, [], state.Warnings);
    }

    private static IEnumerable<EnvChange> EnvChangesFor(
        TargetContainer target, List<(Wanted Want, Resolved Value)> env, HashSet<string> inlineNames, PreparedInjection prepared, string? secretName, List<string> warnings)
    {
        var existing = FirstIndexByName(target.Container.Env);
        var kept = new List<string>();
        foreach (var (want, value) in env)
        {
            var index = existing.GetValueOrDefault(want.Name, -1);
            if (inlineNames.Contains(want.Name) || (index >= 0 && !prepared.Request.Override))
            {
                kept.Add(want.Name);
                continue;
            }
            var envVar = want.Plain ? new V1EnvVar { Name = want.Name, Value = value.Value } : SecretEnv(want.Name, secretName!, want.Name);
            yield return new EnvChange(target, envVar, index >= 0 ? index : null);
        }
        if (kept.Count > 0)
            warnings.Add($"container {target.Name} already sets {Text.Quote.Short(string.Join(", ", kept))}; kept its own value ({AnnotationKeys.Override}: \"true\" replaces it)");
    }

    /// <summary>The pod's annotation wins; otherwise the strictest setting of the policies that allowed the Secret's refs.</summary>
    private static RotationSettings Rotation(PreparedInjection prepared, IEnumerable<string> refs)
    {
        var sources = refs.ToHashSet(StringComparer.Ordinal);
        var decisions = prepared.Decisions.Values.Where(d => sources.Contains(d.Ref.ToString())).Concat(prepared.PathDecisions.Values).ToList();
        var interval = decisions.Count == 0 ? RotationSettings.Default.Interval : decisions.Min(d => d.Rotation.Interval);
        var onChange = prepared.Request.Rotation ?? (decisions.Count == 0 ? RotationSettings.Default.OnChange : decisions.Min(d => d.Rotation.OnChange));
        return new RotationSettings(interval, onChange);
    }

    private static V1OwnerReference? Owner(V1Pod pod) =>
        pod.Metadata?.OwnerReferences?.FirstOrDefault(o => o.Controller == true) is { } controller
            ? new V1OwnerReference { ApiVersion = controller.ApiVersion, Kind = controller.Kind, Name = controller.Name, Uid = controller.Uid }
            : null;

    private static Dictionary<string, int> FirstIndexByName(IList<V1EnvVar>? env)
    {
        var indexes = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; env is not null && i < env.Count; i++)
        {
            if (env[i]?.Name is { } name)
                indexes.TryAdd(name, i);
        }
        return indexes;
    }

    private static V1EnvVar SecretEnv(string name, string secretName, string key) =>
        new() { Name = name, ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = secretName, Key = key } } };

    private sealed class State(PreparedInjection prepared, IReadOnlyDictionary<SecretLocation, SecretRead> reads)
    {
        public List<string> Errors { get; } = [];
        public List<string> Warnings { get; } = [.. prepared.Warnings];
        public HashSet<string> Used { get; } = [];
        public List<string> Skipped { get; } = [];
        public bool PolicyDenied { get; private set; }

        /// <summary>The value for one ref, or null after recording why not (error, or a warning when skipped).</summary>
        /// <param name="record">False for a template's refs: they are listed as used only once the template renders.</param>
        public Resolved? Value(SecretReference reference, PolicyDecision decidedBy, bool record = true)
        {
            var document = Document(reference, decidedBy);
            if (document is null)
                return null;
            string? key = reference.Key;
            if (key is null)
            {
                if (document.Data.Count != 1)
                {
                    Errors.Add($"{reference}: the path holds {document.Data.Count} keys{KeysYouMayRead(reference, document)}; name one with #<key>");
                    return null;
                }
                key = document.Data.Keys.First();
            }
            if (!document.Data.TryGetValue(key, out var value))
            {
                Errors.Add($"{reference}: the path has no key \"{key}\"{KeysYouMayRead(reference, document)}");
                return null;
            }
            if (record)
                Used.Add((reference with { Version = document.Version }).ToString());
            return new Resolved(value, document.Version);
        }

        /// <summary>The keys of the path this pod's policies would let it read: key names are not for everyone's eyes either.</summary>
        private string KeysYouMayRead(SecretReference reference, SecretDocument document)
        {
            var readable = document.Data.Keys.Order(StringComparer.Ordinal)
                .Where(k => PolicyEvaluator.Evaluate(prepared.Policies, prepared.Subject, reference.WithKey(k)).Allowed)
                .Take(20)
                .ToList();
            return readable.Count == 0 ? "" : $" (you may read: {Text.Quote.Short(string.Join(", ", readable))})";
        }

        /// <summary>
        /// A <c>template.</c>, <c>file-template.</c> or <c>file-from.</c> value rendered from its refs, each read and
        /// decided like a <c>secret.</c> ref (every key of a <c>file-from.</c> path too), or null after recording why not.
        /// </summary>
        public (ComposedSource Source, string Text)? Compose(ComposedRequest request)
        {
            if (_composedLength > MaxComposedLength)
                return null;
            var composed = ComposeOne(request);
            if (composed is { } value && (_composedLength += value.Text.Length) > MaxComposedLength)
            {
                Errors.Add($"{request.Annotation}: the pod's templates and formatted files render more than {MaxComposedLength} characters together; a Secret holds at most 1 MiB");
                return null;
            }
            return composed;
        }

        private long _composedLength;

        private (ComposedSource Source, string Text)? ComposeOne(ComposedRequest request)
        {
            if (request.Template is { } template)
            {
                var values = new Dictionary<SecretReference, Resolved>();
                foreach (var reference in request.Refs)
                {
                    if (Value(reference, prepared.Decisions[reference], record: false) is { } value)
                        values[reference] = value;
                }
                if (values.Count < request.Refs.Count)
                {
                    if (Errors.Count == 0)
                        Warnings.Add($"{request.Annotation}: not injected: a ref it needs was skipped");
                    return null;
                }
                var rendered = TemplateRenderer.Render(template, r => values[r].Value);
                if (!rendered.IsOk)
                {
                    Errors.Add($"{request.Annotation}: {rendered.Error}");
                    return null;
                }
                var versions = values.ToDictionary(v => v.Key.ToString(), v => v.Value.Version, StringComparer.Ordinal);
                Used.UnionWith(values.Select(v => (v.Key with { Version = v.Value.Version }).ToString()));
                return (ComposedSource.ForTemplate(request.Source.Template!, versions), rendered.Value!);
            }

            var path = request.From!;
            var document = Document(path, prepared.PathDecisions[path]);
            if (document is null)
                return null;
            var denied = false;
            foreach (var key in document.Data.Keys.Order(StringComparer.Ordinal))
            {
                var decision = PolicyEvaluator.Evaluate(prepared.Policies, prepared.Subject, path.WithKey(key));
                if (!decision.Allowed)
                {
                    PolicyDenied = denied = true;
                    Errors.Add(decision.Reason);
                }
            }
            if (denied)
                return null;
            var file = FileFormats.Render(request.Source.Format!.Value, document.Data);
            if (!file.IsOk)
            {
                Errors.Add($"{request.Annotation}: {file.Error}");
                return null;
            }
            Used.Add((path with { Version = document.Version }).ToString());
            return (ComposedSource.ForFile(path.ToString(), request.Source.Format.Value, document.Version), file.Value!);
        }

        public IEnumerable<(Wanted, Resolved)> ExpandSecretsFrom(SecretReference from, string prefix, HashSet<string> explicitNames)
        {
            var document = Document(from, prepared.PathDecisions[from]);
            if (document is null)
                yield break;
            foreach (var key in document.Data.Keys.Order(StringComparer.Ordinal))
            {
                var name = prefix + key;
                if (!Names.IsEnvName(name))
                {
                    Warnings.Add($"{AnnotationKeys.SecretsFrom}: key \"{key}\" of {from} is not a valid environment variable name; not injected");
                    continue;
                }
                if (explicitNames.Contains(name))
                    continue;
                var keyed = from.WithKey(key);
                var decision = PolicyEvaluator.Evaluate(prepared.Policies, prepared.Subject, keyed);
                if (!decision.Allowed)
                {
                    PolicyDenied = true;
                    Errors.Add(decision.Reason);
                    continue;
                }
                Used.Add((keyed with { Version = document.Version }).ToString());
                yield return (new Wanted(name, keyed, false), new Resolved(document.Data[key], document.Version));
            }
        }

        private SecretDocument? Document(SecretReference reference, PolicyDecision decidedBy)
        {
            var read = reads.TryGetValue(reference.Location, out var r)
                ? r
                : SecretRead.Failed(reference.Location, "not read");
            switch (read.Status)
            {
                case ReadStatus.Found:
                    return read.Document;
                case ReadStatus.NotFound:
                    Errors.Add($"{reference}: not found: {read.Reason}");
                    return null;
            }

            var mode = decidedBy.OnBackendError;
            switch (mode)
            {
                case BackendErrorMode.AllowStale when read.Document is not null:
                    Warnings.Add($"{reference}: backend error ({read.Reason}); using the last-known-good value (onBackendError: allow-stale)");
                    return read.Document;
                case BackendErrorMode.Skip:
                    Warnings.Add($"{reference}: backend error ({read.Reason}); not injected (onBackendError: skip)");
                    Skipped.Add($"{reference}: {read.Reason}");
                    return null;
                default:
                    Errors.Add($"{reference}: backend error: {read.Reason}{(mode == BackendErrorMode.AllowStale ? " (no last-known-good value)" : "")}");
                    return null;
            }
        }
    }

    /// <summary>
    /// The managed Secret's keys. A key is reused for the same ref and numbered when another ref already took
    /// the name. <see cref="Sources"/> (refs without versions) names the Secret, so a rotation keeps the name.
    /// </summary>
    private sealed class SecretKeys
    {
        public SortedDictionary<string, string> Data { get; } = new(StringComparer.Ordinal);
        public SortedDictionary<string, string> Sources { get; } = new(StringComparer.Ordinal);
        public SortedDictionary<string, KeySource> Versions { get; } = new(StringComparer.Ordinal);
        public SortedDictionary<string, ComposedSource> Composed { get; } = new(StringComparer.Ordinal);

        public string Add(string key, SecretReference reference, Resolved value)
        {
            var source = reference.ToString();
            var candidate = key;
            for (var n = 2; Data.ContainsKey(candidate) && Sources.GetValueOrDefault(candidate) != source; n++)
                candidate = $"{key}.{n}";
            Data[candidate] = value.Value;
            Sources[candidate] = source;
            Versions[candidate] = new KeySource(source, value.Version);
            return candidate;
        }

        public string AddComposed(string key, ComposedSource source, string value)
        {
            var candidate = key;
            for (var n = 2; Data.ContainsKey(candidate); n++)
                candidate = $"{key}.{n}";
            Data[candidate] = value;
            Composed[candidate] = source;
            return candidate;
        }

        /// <summary>What names the Secret: each key and what it is made of (refs without versions, templates as written).</summary>
        public IEnumerable<KeyValuePair<string, string>> NameParts() =>
            Sources.Concat(Composed.Select(c => KeyValuePair.Create(c.Key, c.Value.Template is { } text ? "template:" + text : $"file-from:{c.Value.From}:{c.Value.Format}")));
    }
}
