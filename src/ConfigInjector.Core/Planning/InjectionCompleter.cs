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

    /// <summary>
    /// Characters of rendering work (values read by filters, text written, formatted files' input) one admission may
    /// spend on composed values, successful or not: four times what a Secret can hold, so any pod that fits is built.
    /// </summary>
    public const int MaxRenderWork = 4 * MaxComposedLength;

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

    public static StepOutcome<InjectionPlan> Complete(V1Pod pod, PreparedInjection prepared, IReadOnlyDictionary<SecretLocation, SecretRead> reads, CancellationToken cancellationToken = default)
    {
        var state = new State(prepared, reads);
        var request = prepared.Request;

        // Precedence: the pod's own annotations, then its secrets-from keys, then profiles (secretEnv, then env).
        var annotationEnv = new List<(Wanted Want, Resolved Value)>();
        foreach (var env in request.Env.Where(e => !e.FromProfile))
            AddEnv(env);
        foreach (var composed in request.Composed.Where(c => c.Kind == ComposedKind.Env))
        {
            if (state.Compose(composed, cancellationToken) is { } value)
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
            if (state.Compose(file, cancellationToken) is { } value)
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
        var inlineNamesByContainer = prepared.Inline.Count == 0 ? null : prepared.Inline.ToLookup(i => i.Container, i => i.Name);
        foreach (var (file, value) in files)
            keys.Add(ManagedSecretSpec.FileKeyPrefix + file.Name, file.Ref, value);
        var composedFileKeys = composedFiles.Select(f => keys.AddComposed(ManagedSecretSpec.FileKeyPrefix + f.File.Name, f.Source, f.Text)).ToList();
        var data = keys.Data;

        var secretName = data.Count == 0 ? null : ManagedSecretNaming.NameFor(pod, prepared.Subject.Namespace, keys.NameParts());
        var changes = new List<EnvChange>();
        for (var i = 0; i < inline.Count; i++)
            changes.Add(new EnvChange(inline[i].Inline.Container, SecretEnv(inline[i].Inline.Name, secretName!, inlineKeys[i]), inline[i].Inline.EnvIndex));

        foreach (var target in prepared.Targets)
            changes.AddRange(EnvChangesFor(target, annotationEnv, inlineNamesByContainer?[target].ToHashSet(StringComparer.Ordinal), prepared, secretName, state.Warnings));

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
        TargetContainer target, List<(Wanted Want, Resolved Value)> env, HashSet<string>? inlineNames, PreparedInjection prepared, string? secretName, List<string> warnings)
    {
        var existing = FirstIndexByName(target.Container.Env);
        var kept = new List<string>();
        foreach (var (want, value) in env)
        {
            var index = existing.GetValueOrDefault(want.Name, -1);
            if (inlineNames?.Contains(want.Name) == true || (index >= 0 && !prepared.Request.Override))
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
        TimeSpan? interval = null;
        RotationMode? onChange = null;
        void Include(PolicyDecision d)
        {
            interval = interval is { } i && i <= d.Rotation.Interval ? i : d.Rotation.Interval;
            onChange = onChange is { } c && c <= d.Rotation.OnChange ? c : d.Rotation.OnChange;
        }
        foreach (var decision in prepared.Decisions.Values)
        {
            if (sources.Contains(decision.Ref.ToString()))
                Include(decision);
        }
        foreach (var decision in prepared.PathDecisions.Values)
            Include(decision);
        return new RotationSettings(interval ?? RotationSettings.Default.Interval, prepared.Request.Rotation ?? onChange ?? RotationSettings.Default.OnChange);
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
            // Decided once per path: a pod may name the same path hundreds of times.
            if (_readableKeys.TryGetValue(reference.Location, out var known))
                return known;
            var readable = document.Data.Keys.Order(StringComparer.Ordinal)
                .Where(k => PolicyEvaluator.Evaluate(prepared.Policies, prepared.Subject, reference.WithKey(k)).Allowed)
                .Take(20)
                .ToList();
            return _readableKeys[reference.Location] = readable.Count == 0 ? "" : $" (you may read: {Text.Quote.Short(string.Join(", ", readable))})";
        }

        private readonly Dictionary<SecretLocation, string> _readableKeys = [];

        /// <summary>
        /// Null when the pod may read every key of the path as read, else the one denial to report. It names no key
        /// the pod may not read (only those it may), and is decided once per path however many annotations use it.
        /// </summary>
        private string? DeniedKeysOf(SecretReference path, SecretDocument document)
        {
            if (_pathDenials.TryGetValue(path.Location, out var known))
                return known;
            var anyDenied = document.Data.Keys.Any(k => !PolicyEvaluator.Evaluate(prepared.Policies, prepared.Subject, path.WithKey(k)).Allowed);
            return _pathDenials[path.Location] = anyDenied
                ? $"{prepared.Subject}: no SecretPolicy allows every key of {path}, and all of them are read{KeysYouMayRead(path, document)}"
                : null;
        }

        private readonly Dictionary<SecretLocation, string?> _pathDenials = [];

        /// <summary>
        /// A <c>template.</c>, <c>file-template.</c> or <c>file-from.</c> value rendered from its refs, each read and
        /// decided like a <c>secret.</c> ref (every key of a <c>file-from.</c> path too), or null after recording why not.
        /// Work is charged to one budget before it is done, so no mix of annotations makes admission do more than that.
        /// </summary>
        public (ComposedSource Source, string Text)? Compose(ComposedRequest request, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_composedLength > MaxComposedLength || _budget.IsExhausted)
                return null;
            var composed = ComposeOne(request);
            if (_budget.IsExhausted)
            {
                // First, so the cause is not cut off behind the renders that failed on the way to it.
                Errors.Insert(0, $"{request.Annotation}: the pod's templates and formatted files need more than {MaxRenderWork} characters of rendering; not injected");
                return null;
            }
            if (composed is { } value && (_composedLength += value.Text.Length) > MaxComposedLength)
            {
                Errors.Add($"{request.Annotation}: the pod's templates and formatted files render more than {MaxComposedLength} characters together; a Secret holds at most 1 MiB");
                return null;
            }
            return composed;
        }

        private long _composedLength;
        private readonly RenderBudget _budget = new(MaxRenderWork);
        private readonly Dictionary<(SecretLocation, FileFormat), Result<string>> _renderedFiles = [];

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
                var rendered = TemplateRenderer.Render(template, r => values[r].Value, _budget);
                if (!rendered.IsOk)
                {
                    if (!_budget.IsExhausted)
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
            if (DeniedKeysOf(path, document) is { } denial)
            {
                PolicyDenied = true;
                Errors.Add($"{request.Annotation}: {denial}");
                return null;
            }
            var format = request.Source.Format!.Value;
            if (!_renderedFiles.TryGetValue((path.Location, format), out var file))
                _renderedFiles[(path.Location, format)] = file = RenderFile(format, document);
            if (!file.IsOk)
            {
                if (!_budget.IsExhausted)
                    Errors.Add($"{request.Annotation}: {file.Error}");
                return null;
            }
            Used.Add((path with { Version = document.Version }).ToString());
            return (ComposedSource.ForFile(path.ToString(), format, document.Version), file.Value!);
        }

        /// <summary>
        /// Every format writes at least each key and value once, so a path whose keys and values alone pass the limit
        /// is refused without rendering it.
        /// </summary>
        private Result<string> RenderFile(FileFormat format, SecretDocument document)
        {
            long size = 0;
            foreach (var (key, value) in document.Data)
                size += key.Length + value.Length;
            if (size > TemplateRenderer.MaxRenderedLength)
                return Result.Fail<string>($"the rendered file is longer than {TemplateRenderer.MaxRenderedLength} characters");
            return _budget.TryCharge(size)
                ? FileFormats.Render(format, document.Data)
                : Result.Fail<string>(TemplateRenderer.BudgetExhausted);
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
                if (!PolicyEvaluator.Evaluate(prepared.Policies, prepared.Subject, keyed).Allowed)
                {
                    if (!PolicyDenied)
                        Errors.Add($"{AnnotationKeys.SecretsFrom}: {DeniedKeysOf(from, document)}");
                    PolicyDenied = true;
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
                case ReadStatus.Refused:
                    Errors.Add($"{reference}: {read.Reason}");
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
