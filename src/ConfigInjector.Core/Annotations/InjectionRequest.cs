using ConfigInjector.Core.References;
using ConfigInjector.Core.Templates;

namespace ConfigInjector.Core.Annotations;

public enum OptIn { Unset, Yes, No }

public enum EnvSource { Secret, Config }

public enum RotationMode { Restart, None }

/// <summary>An env var asked for by a <c>secret.</c> or <c>config.</c> annotation.</summary>
public sealed record EnvRequest(string Name, SecretReference Ref, EnvSource Source, string Annotation)
{
    /// <summary>Set for a ConfigProfile's <c>secretEnv</c>: it yields to everything the pod asks for itself.</summary>
    public bool FromProfile { get; init; }
}

/// <summary>A file asked for by a <c>file.</c> annotation.</summary>
public sealed record FileRequest(string Name, SecretReference Ref, string Annotation);

public enum ComposedKind { Env, File }

/// <summary>
/// A value composed from several refs: <c>template.&lt;ENV&gt;</c> (an env var), <c>file-template.&lt;NAME&gt;</c>, or
/// <c>file-from.&lt;NAME&gt;</c> with <c>file-format.&lt;NAME&gt;</c> (files). <paramref name="Source"/> says how it is
/// composed (its versions are empty until the refs are read).
/// </summary>
public sealed record ComposedRequest(string Name, ComposedKind Kind, ComposedSource Source, IReadOnlyList<SecretReference> Refs, string Annotation)
{
    /// <summary>The parsed template of a <c>template.</c> or <c>file-template.</c> annotation; null for a formatted file.</summary>
    public Template? Template { get; init; }

    /// <summary>The path of a formatted file: every key of it is read, so every key must pass the policies.</summary>
    public SecretReference? From => Source.From is null ? null : Refs[0];
}

/// <summary>What the pod's <c>configinjector.io/</c> annotations ask for, validated.</summary>
public sealed record InjectionRequest
{
    public OptIn Inject { get; init; }
    public bool AlreadyInjected { get; init; }
    public IReadOnlyList<EnvRequest> Env { get; init; } = [];
    public IReadOnlyList<FileRequest> Files { get; init; } = [];
    public IReadOnlyList<ComposedRequest> Composed { get; init; } = [];
    public SecretReference? SecretsFrom { get; init; }
    public string SecretsPrefix { get; init; } = "";
    public string FilesDir { get; init; } = AnnotationKeys.DefaultFilesDir;
    public IReadOnlyList<string> Profiles { get; init; } = [];
    public IReadOnlyList<string>? Containers { get; init; }
    public bool InitContainers { get; init; }
    public RotationMode? Rotation { get; init; }
    public bool Override { get; init; }

    /// <summary>True when any annotation of ours is present at all (so a typo in an un-opted pod is still reported).</summary>
    public bool HasAnyAnnotation { get; init; }
}

/// <summary>The parse outcome: the request plus what was wrong (errors reject the pod, warnings go back to kubectl).</summary>
public sealed record AnnotationParseResult(InjectionRequest Request, IReadOnlyList<string> Errors, IReadOnlyList<string> Warnings);
