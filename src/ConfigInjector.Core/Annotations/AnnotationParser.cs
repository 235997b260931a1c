using ConfigInjector.Core.References;
using ConfigInjector.Core.Templates;
using ConfigInjector.Core.Text;

namespace ConfigInjector.Core.Annotations;

/// <summary>
/// Turns a pod's annotations into an <see cref="InjectionRequest"/> through one table of key → parser,
/// so a new annotation is one row. Nothing is ignored silently: unknown keys and bad values become warnings,
/// malformed references and names become errors that reject the pod.
/// </summary>
public static class AnnotationParser
{
    private sealed record Rule(string Key, bool IsPrefix, string Display, Action<Builder, string, string> Apply);

    private static readonly Rule[] Rules =
    [
        Exact(AnnotationKeys.Inject, (b, _, v) => b.Request = b.Request with { Inject = b.Bool(AnnotationKeys.Inject, v) switch { true => OptIn.Yes, false => OptIn.No, null => OptIn.Unset } }),
        Prefix(AnnotationKeys.SecretEnv, "secret.<ENV_NAME>", (b, name, v) => b.AddEnv(AnnotationKeys.SecretEnv, name, v, EnvSource.Secret)),
        Prefix(AnnotationKeys.ConfigEnv, "config.<ENV_NAME>", (b, name, v) => b.AddEnv(AnnotationKeys.ConfigEnv, name, v, EnvSource.Config)),
        Prefix(AnnotationKeys.File, "file.<NAME>", (b, name, v) => b.AddFile(name, v)),
        Prefix(AnnotationKeys.TemplateEnv, "template.<ENV_NAME>", (b, name, v) => b.AddTemplateEnv(name, v)),
        Prefix(AnnotationKeys.FileTemplate, "file-template.<NAME>", (b, name, v) => b.AddFileTemplate(name, v)),
        Prefix(AnnotationKeys.FileFrom, "file-from.<NAME>", (b, name, v) => b.FileFrom[name] = v),
        Prefix(AnnotationKeys.FileFormat, "file-format.<NAME>", (b, name, v) => b.FileFormat[name] = v),
        Exact(AnnotationKeys.SecretsFrom, (b, _, v) => b.SetSecretsFrom(v)),
        Exact(AnnotationKeys.SecretsPrefix, (b, _, v) => b.SetSecretsPrefix(v)),
        Exact(AnnotationKeys.FilesDir, (b, _, v) => b.SetFilesDir(v)),
        Exact(AnnotationKeys.Profiles, (b, _, v) => b.Request = b.Request with { Profiles = SplitList(v) }),
        Exact(AnnotationKeys.Containers, (b, _, v) => b.SetContainers(v)),
        Exact(AnnotationKeys.InitContainers, (b, _, v) => b.Request = b.Request with { InitContainers = b.Bool(AnnotationKeys.InitContainers, v) ?? false }),
        Exact(AnnotationKeys.Rotation, (b, _, v) => b.SetRotation(v)),
        Exact(AnnotationKeys.Override, (b, _, v) => b.Request = b.Request with { Override = b.Bool(AnnotationKeys.Override, v) ?? false }),
        Exact(AnnotationKeys.Injected, (b, _, _) => b.Request = b.Request with { AlreadyInjected = true }),
        Exact(AnnotationKeys.ManagedSecret, (_, _, _) => { }),
    ];

    /// <summary>The valid keys as a user would write them, for messages and documentation.</summary>
    public static IEnumerable<string> KnownKeys => Rules.Select(r => r.Display);

    public static AnnotationParseResult Parse(IReadOnlyDictionary<string, string>? annotations)
    {
        var builder = new Builder();
        if (annotations is null)
            return builder.Build();

        // Beyond Kubernetes' own limits nothing else is parsed: the work below must not grow with a hostile input.
        if (AnnotationLimits.Check(annotations) is { } tooLarge)
        {
            builder.Request = builder.Request with
            {
                HasAnyAnnotation = true,
                Inject = annotations.TryGetValue(AnnotationKeys.Inject, out var inject) ? inject switch { "true" => OptIn.Yes, "false" => OptIn.No, _ => OptIn.Unset } : OptIn.Unset,
            };
            builder.Errors.Add(tooLarge);
            return builder.Build();
        }

        // Ordinal order makes the request (and so the patch) independent of the map's enumeration order.
        foreach (var (key, value) in annotations.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            if (!key.StartsWith(AnnotationKeys.Prefix, StringComparison.Ordinal))
                continue;
            if (!builder.Request.HasAnyAnnotation)
                builder.Request = builder.Request with { HasAnyAnnotation = true };
            var rule = RuleFor(key);
            if (rule is null)
                builder.Warnings.Add($"unknown annotation {key}; did you mean {Suggest(key)}?");
            else
                rule.Apply(builder, rule.IsPrefix ? key[rule.Key.Length..] : "", value ?? "");
        }
        return builder.Build();
    }

    private static Rule? RuleFor(string key)
    {
        foreach (var rule in Rules)
        {
            if (rule.IsPrefix ? key.StartsWith(rule.Key, StringComparison.Ordinal) && key.Length > rule.Key.Length : key == rule.Key)
                return rule;
        }
        return null;
    }

    private static string Suggest(string key)
    {
        var typed = key[AnnotationKeys.Prefix.Length..];
        // Edit distance is quadratic: only a key of a plausible length gets a suggestion.
        if (typed.Length > AnnotationLimits.MaxNameLength)
            return "a key from the documentation";
        var dot = typed.IndexOf('.');
        var suffix = dot >= 0 ? typed[(dot + 1)..] : "";
        var candidates = Rules.Select(r => r.IsPrefix && suffix.Length > 0 ? r.Key[AnnotationKeys.Prefix.Length..] + suffix : r.Display);
        return AnnotationKeys.Prefix + ClosestMatch.Find(typed, candidates);
    }

    private static Rule Exact(string key, Action<Builder, string, string> apply) => new(key, false, key[AnnotationKeys.Prefix.Length..], apply);

    private static Rule Prefix(string key, string display, Action<Builder, string, string> apply) => new(key, true, display, apply);

    private static List<string> SplitList(string value) =>
        [.. value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];

    private sealed class Builder
    {
        private readonly List<EnvRequest> _env = [];
        private readonly Dictionary<string, string> _envByName = new(StringComparer.Ordinal);
        private readonly List<FileRequest> _files = [];
        private readonly List<ComposedRequest> _composed = [];
        private readonly Dictionary<string, string> _fileNames = new(StringComparer.Ordinal);
        public InjectionRequest Request { get; set; } = new();
        public List<string> Errors { get; } = [];
        public List<string> Warnings { get; } = [];

        /// <summary><c>file-from.</c> and <c>file-format.</c> values by file name: they are paired once all are seen.</summary>
        public Dictionary<string, string> FileFrom { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, string> FileFormat { get; } = new(StringComparer.Ordinal);

        public AnnotationParseResult Build()
        {
            AddFormattedFiles();
            return new(Request with { Env = _env.ToArray(), Files = _files.ToArray(), Composed = _composed.ToArray() }, Errors, Warnings);
        }

        public bool? Bool(string key, string value) => value switch
        {
            "true" => true,
            "false" => false,
            _ => Warn<bool?>($"{key}: \"{Quote.Short(value)}\" is not \"true\" or \"false\"; did you mean \"{ClosestMatch.Find(value, ["true", "false"])}\"? Treated as not set", null),
        };

        public void AddEnv(string prefix, string name, string value, EnvSource source)
        {
            var key = prefix + name;
            if (!TakeEnvName(key, name))
                return;
            var reference = ParseRef(key, value, keyAllowed: true);
            if (reference is not null)
                _env.Add(new EnvRequest(name, reference, source, key));
        }

        public void AddTemplateEnv(string name, string value)
        {
            var key = AnnotationKeys.TemplateEnv + name;
            if (TakeEnvName(key, name) && ParseTemplate(key, value) is { } template)
                _composed.Add(new ComposedRequest(name, ComposedKind.Env, ComposedSource.ForTemplate(value, Empty), template.Refs, key) { Template = template });
        }

        /// <summary>One env name, one annotation: <c>secret.</c>, <c>config.</c> and <c>template.</c> set the same variables.</summary>
        private bool TakeEnvName(string key, string name)
        {
            if (!Names.IsEnvName(name))
            {
                Errors.Add($"{key}: \"{name}\" is not a valid environment variable name (letters, digits and '_', not starting with a digit)");
                return false;
            }
            if (_envByName.TryGetValue(name, out var earlier))
            {
                Errors.Add($"{key}: {name} is already set by {earlier}");
                return false;
            }
            _envByName[name] = key;
            return true;
        }

        public void AddFileTemplate(string name, string value)
        {
            var key = AnnotationKeys.FileTemplate + name;
            if (!TakeFileName(key, name))
                return;
            if (ParseTemplate(key, value) is { } template)
                _composed.Add(new ComposedRequest(name, ComposedKind.File, ComposedSource.ForTemplate(value, Empty), template.Refs, key) { Template = template });
        }

        /// <summary>Pairs each <c>file-from.</c> with its <c>file-format.</c>: one without the other is a mistake.</summary>
        private void AddFormattedFiles()
        {
            if (FileFrom.Count == 0 && FileFormat.Count == 0)
                return;
            foreach (var name in FileFrom.Keys.Union(FileFormat.Keys).Order(StringComparer.Ordinal))
            {
                var fromKey = AnnotationKeys.FileFrom + name;
                var formatKey = AnnotationKeys.FileFormat + name;
                if (!FileFrom.TryGetValue(name, out var from))
                {
                    Errors.Add($"{formatKey}: there is no {fromKey} to write in that format");
                    continue;
                }
                if (!FileFormat.TryGetValue(name, out var formatText))
                {
                    Errors.Add($"{fromKey}: the file needs a format: add {formatKey} ({FileFormats.Names})");
                    continue;
                }
                if (!TakeFileName(fromKey, name))
                    continue;
                var format = FileFormats.Parse(formatText);
                if (!format.IsOk)
                    Errors.Add($"{formatKey}: {format.Error}");
                var reference = ParseRef(fromKey, from, keyAllowed: false);
                if (reference is not null && format.IsOk)
                    _composed.Add(new ComposedRequest(name, ComposedKind.File, ComposedSource.ForFile(reference.ToString(), format.Value, ""), [reference], fromKey));
            }
        }

        /// <summary>One file name, one annotation: <c>file.</c>, <c>file-template.</c> and <c>file-from.</c> share the directory.</summary>
        private bool TakeFileName(string key, string name)
        {
            if (!Names.IsFileName(name))
            {
                Errors.Add($"{key}: \"{name}\" is not a valid file name (letters, digits, '.', '_' and '-')");
                return false;
            }
            if (_fileNames.TryGetValue(name, out var earlier))
            {
                Errors.Add($"{key}: the file {name} is already written by {earlier}");
                return false;
            }
            _fileNames[name] = key;
            return true;
        }

        private Template? ParseTemplate(string key, string value)
        {
            var parsed = TemplateParser.Parse(value);
            if (parsed.IsOk)
                return parsed.Value;
            Errors.Add($"{key}: {parsed.Error}");
            return null;
        }

        private static readonly Dictionary<string, string> Empty = [];

        public void AddFile(string name, string value)
        {
            var key = AnnotationKeys.File + name;
            if (!TakeFileName(key, name))
                return;
            var reference = ParseRef(key, value, keyAllowed: true);
            if (reference is not null)
                _files.Add(new FileRequest(name, reference, key));
        }

        public void SetSecretsFrom(string value)
        {
            var reference = ParseRef(AnnotationKeys.SecretsFrom, value, keyAllowed: false);
            if (reference is not null)
                Request = Request with { SecretsFrom = reference };
        }

        public void SetSecretsPrefix(string value)
        {
            if (value.Length > 0 && !Names.IsEnvName(value))
                Errors.Add($"{AnnotationKeys.SecretsPrefix}: \"{Quote.Short(value)}\" is not a valid start of an environment variable name");
            else
                Request = Request with { SecretsPrefix = value };
        }

        public void SetFilesDir(string value)
        {
            if (!value.StartsWith('/') || value == "/" || value.Contains(':') || value.Split('/').Any(s => s is ".." or "."))
                Errors.Add($"{AnnotationKeys.FilesDir}: \"{Quote.Short(value)}\" must be an absolute directory path other than '/', without '.', '..' or ':'");
            else
                Request = Request with { FilesDir = value.TrimEnd('/') };
        }

        public void SetContainers(string value)
        {
            var names = SplitList(value);
            if (names.Count == 0)
                Errors.Add($"{AnnotationKeys.Containers}: \"{Quote.Short(value)}\" names no container");
            else
                Request = Request with { Containers = names };
        }

        public void SetRotation(string value)
        {
            RotationMode? mode = value switch { "restart" => RotationMode.Restart, "none" => RotationMode.None, _ => null };
            if (mode is null)
                Warnings.Add($"{AnnotationKeys.Rotation}: \"{Quote.Short(value)}\" is not \"restart\" or \"none\"; did you mean \"{ClosestMatch.Find(value, ["restart", "none"])}\"? The policy's default applies");
            Request = Request with { Rotation = mode };
        }

        private SecretReference? ParseRef(string key, string value, bool keyAllowed)
        {
            var parsed = ReferenceParser.Parse(value, keyAllowed);
            if (parsed.IsOk)
                return parsed.Value;
            Errors.Add($"{key}: \"{Quote.Short(value)}\": {parsed.Error}");
            return null;
        }

        private T Warn<T>(string warning, T result)
        {
            Warnings.Add(warning);
            return result;
        }
    }
}
