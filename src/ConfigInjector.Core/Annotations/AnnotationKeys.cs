namespace ConfigInjector.Core.Annotations;

/// <summary>Every <c>configinjector.io/</c> annotation: this is a public API, see DESIGN.md §2.</summary>
public static class AnnotationKeys
{
    public const string Prefix = "configinjector.io/";

    /// <summary><c>"true"</c> opts the pod in, <c>"false"</c> opts it out of a namespace-wide opt-in.</summary>
    public const string Inject = Prefix + "inject";

    /// <summary><c>secret.&lt;ENV&gt;: &lt;ref&gt;</c>: env var from a managed Secret (<c>valueFrom.secretKeyRef</c>).</summary>
    public const string SecretEnv = Prefix + "secret.";

    /// <summary><c>config.&lt;ENV&gt;: &lt;ref&gt;</c>: non-secret setting; a plain value when its backend is not sensitive.</summary>
    public const string ConfigEnv = Prefix + "config.";

    /// <summary><c>file.&lt;NAME&gt;: &lt;ref&gt;</c>: the value as the file <c>&lt;files-dir&gt;/&lt;NAME&gt;</c>.</summary>
    public const string File = Prefix + "file.";

    /// <summary><c>template.&lt;ENV&gt;: &lt;text&gt;</c>: env var whose value is the rendered template (<c>secretKeyRef</c>).</summary>
    public const string TemplateEnv = Prefix + "template.";

    /// <summary><c>file-template.&lt;NAME&gt;: &lt;text&gt;</c>: the rendered template as the file <c>&lt;files-dir&gt;/&lt;NAME&gt;</c>.</summary>
    public const string FileTemplate = Prefix + "file-template.";

    /// <summary><c>file-from.&lt;NAME&gt;: &lt;ref without key&gt;</c>: every key of the path as one file, in <see cref="FileFormat"/>.</summary>
    public const string FileFrom = Prefix + "file-from.";

    /// <summary><c>file-format.&lt;NAME&gt;: json | yaml | dotenv | properties</c>: the format of a <see cref="FileFrom"/> file.</summary>
    public const string FileFormat = Prefix + "file-format.";

    /// <summary>A reference without key: every key of that path becomes an env var.</summary>
    public const string SecretsFrom = Prefix + "secrets-from";

    /// <summary>Prefix for the env vars that <see cref="SecretsFrom"/> creates, e.g. <c>DB_</c>.</summary>
    public const string SecretsPrefix = Prefix + "secrets-prefix";

    /// <summary>Where files are mounted; default <see cref="DefaultFilesDir"/>.</summary>
    public const string FilesDir = Prefix + "files-dir";

    /// <summary>Comma-separated ConfigProfile names to apply.</summary>
    public const string Profiles = Prefix + "profiles";

    /// <summary>Comma-separated container names that receive env and files (default: all regular containers).</summary>
    public const string Containers = Prefix + "containers";

    /// <summary><c>"true"</c>: init containers receive env and files too.</summary>
    public const string InitContainers = Prefix + "init-containers";

    /// <summary><c>restart</c> or <c>none</c>: what a change of an env-delivered value does.</summary>
    public const string Rotation = Prefix + "rotation";

    /// <summary><c>"true"</c>: injected env vars replace those the container already sets.</summary>
    public const string Override = Prefix + "override";

    /// <summary>Written by the webhook: the refs and versions used (never values). Its presence makes admission a no-op.</summary>
    public const string Injected = Prefix + "injected";

    /// <summary>Written by the webhook: the name of the managed Secret that holds the pod's secret values.</summary>
    public const string ManagedSecret = Prefix + "managed-secret";

    /// <summary>
    /// On a managed Secret, set by anyone to a new value (<c>kubectl annotate --overwrite</c>, the <c>rotate</c> verb,
    /// <c>POST /refresh</c>): re-read its refs now instead of on the interval. A request, not signed data: it changes timing only.
    /// </summary>
    public const string Refresh = Prefix + "refresh";

    /// <summary>Namespace label that opts every pod of the namespace in (value <c>enabled</c>).</summary>
    public const string NamespaceInjectionLabel = Prefix + "injection";

    public const string DefaultFilesDir = "/var/run/configinjector";

    /// <summary>The env value prefix that asks for resolution of a reference in place.</summary>
    public const string InlineReferencePrefix = "configinjector:";
}
