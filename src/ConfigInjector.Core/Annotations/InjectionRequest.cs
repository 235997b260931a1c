using ConfigInjector.Core.References;

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

/// <summary>What the pod's <c>configinjector.io/</c> annotations ask for, validated.</summary>
public sealed record InjectionRequest
{
    public OptIn Inject { get; init; }
    public bool AlreadyInjected { get; init; }
    public IReadOnlyList<EnvRequest> Env { get; init; } = [];
    public IReadOnlyList<FileRequest> Files { get; init; } = [];
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
