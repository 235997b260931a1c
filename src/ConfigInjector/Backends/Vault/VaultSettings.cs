using ConfigInjector.Configuration;

namespace ConfigInjector.Backends.Vault;

internal enum KvVersion { V1, V2, Auto }

internal abstract record VaultAuthSettings;

/// <summary>A token read from a file (e.g. written by Vault Agent), re-read when the file changes.</summary>
internal sealed record TokenAuthSettings(string File) : VaultAuthSettings;

/// <summary>Kubernetes auth: the pod's service-account token exchanged at <c>auth/&lt;mount&gt;/login</c>.</summary>
internal sealed record KubernetesAuthSettings(string Role, string Mount, string TokenFile) : VaultAuthSettings;

/// <summary>
/// <c>identity: pod</c>: Kubernetes auth at <c>auth/&lt;mount&gt;/login</c> with a token of the pod's own service account
/// (asked for <paramref name="Audience"/>), as the role the service account's <c>configinjector.io/vault-role</c>
/// annotation names, else <paramref name="Role"/>, else <paramref name="RoleTemplate"/> filled in.
/// </summary>
internal sealed record PodKubernetesAuthSettings(string Mount, string Audience, string? Role, string? RoleTemplate) : VaultAuthSettings
{
    public const string DefaultAudience = "vault";

    /// <summary>The service-account annotation that names the Vault role to log in as, over the backend's role or template.</summary>
    public const string RoleAnnotation = "configinjector.io/vault-role";

    public string RoleFor(Core.Policies.Subject serviceAccount, IReadOnlyDictionary<string, string> annotations) =>
        annotations.TryGetValue(RoleAnnotation, out var named) && !string.IsNullOrWhiteSpace(named) ? named.Trim()
        : Role ?? RoleTemplate!.Replace("{namespace}", serviceAccount.Namespace, StringComparison.Ordinal).Replace("{serviceAccount}", serviceAccount.ServiceAccount, StringComparison.Ordinal);
}

/// <summary>AppRole auth: role id and a secret id read from a file.</summary>
internal sealed record AppRoleAuthSettings(string RoleId, string SecretIdFile, string Mount) : VaultAuthSettings;

/// <summary>The validated settings of one <c>type: vault</c> backend.</summary>
internal sealed record VaultSettings(
    Uri Address,
    KvVersion KvVersion,
    string? Namespace,
    string? CaFile,
    TimeSpan Timeout,
    int Attempts,
    TimeSpan BaseDelay,
    VaultAuthSettings Auth)
{
    public const string ServiceAccountTokenFile = "/var/run/secrets/kubernetes.io/serviceaccount/token";

    /// <summary><c>events: true</c>: follow Vault's event notifications (Enterprise) to refresh refs within seconds of a write.</summary>
    public bool Events { get; init; }

    public static VaultSettings Read(BackendSettings settings)
    {
        var node = settings.Node;
        var addressText = node.String("address", required: true)!;
        if (!Uri.TryCreate(addressText, UriKind.Absolute, out var address) || address.Scheme is not ("https" or "http"))
            throw node.ErrorAt("address", $"\"{addressText}\" is not an http(s) URL such as https://vault.vault:8200");
        // Plain http sends the token (and a login's JWT or secret_id) in clear: only when the config says so, e.g.
        // behind a service mesh that encrypts the hop.
        var allowPlainHttp = node.Bool("allowPlainHttp", false);
        if (address.Scheme == "http" && !allowPlainHttp)
            throw node.ErrorAt("address", $"\"{addressText}\" is plain http, which would send the Vault token in clear; use https, or set allowPlainHttp: true where a service mesh encrypts the connection");
        var kvVersion = node.String("kvVersion") switch
        {
            null or "auto" => KvVersion.Auto,
            "1" => KvVersion.V1,
            "2" => KvVersion.V2,
            var other => throw node.ErrorAt("kvVersion", $"\"{other}\" is not 1, 2 or auto"),
        };
        var vaultNamespace = node.String("namespace");
        var transport = TransportSettings.Read(settings);
        var authNode = node.Mapping("auth") ?? throw node.ErrorAt("auth", "required: one of kubernetes, token or approle");
        var auth = settings.Identity == BackendIdentity.Pod ? ReadPodAuth(authNode) : ReadAuth(authNode, settings);
        var events = node.Bool("events", false);
        if (events && settings.Identity == BackendIdentity.Pod)
            throw node.ErrorAt("events", "events: true subscribes with the backend's own token; identity: pod has none (use a second backend on the same Vault with identity: webhook)");
        return new VaultSettings(address, kvVersion, string.IsNullOrEmpty(vaultNamespace) ? null : vaultNamespace, transport.CaFile, transport.Timeout, transport.Attempts, transport.BaseDelay, auth) { Events = events };
    }

    private static PodKubernetesAuthSettings ReadPodAuth(ConfigNode auth)
    {
        var node = auth.Mapping("kubernetes")
            ?? throw auth.ErrorAt("kubernetes", "identity: pod logs in with Kubernetes auth as the pod's service account: set auth.kubernetes { mount, audience, roleTemplate }");
        auth.RejectUnknown();
        var role = node.String("role");
        var template = node.String("roleTemplate");
        if (role is null && template is null)
            throw node.ErrorAt("roleTemplate", "identity: pod needs roleTemplate (e.g. \"{namespace}-{serviceAccount}\") or one role for every service account");
        if (template is not null && System.Text.RegularExpressions.Regex.Replace(template, "{namespace}|{serviceAccount}", "") is var rest && (rest.Contains('{') || rest.Contains('}')))
            throw node.ErrorAt("roleTemplate", $"\"{template}\" may use only {{namespace}} and {{serviceAccount}}");
        var result = new PodKubernetesAuthSettings(node.String("mount") ?? "kubernetes", node.String("audience") ?? PodKubernetesAuthSettings.DefaultAudience, role, template);
        node.RejectUnknown();
        return result;
    }

    private static VaultAuthSettings ReadAuth(ConfigNode auth, BackendSettings settings)
    {
        var kubernetes = auth.Mapping("kubernetes");
        var token = auth.Mapping("token");
        var approle = auth.Mapping("approle");
        auth.RejectUnknown();
        var given = new[] { kubernetes, token, approle }.Count(n => n is not null);
        if (given != 1)
            throw auth.ErrorAt("kubernetes", "set exactly one of kubernetes, token or approle");

        VaultAuthSettings result;
        ConfigNode node;
        if (kubernetes is not null)
        {
            node = kubernetes;
            result = new KubernetesAuthSettings(
                node.String("role", required: true)!,
                node.String("mount") ?? "kubernetes",
                settings.ResolvePath(node.String("tokenFile") ?? ServiceAccountTokenFile));
        }
        else if (token is not null)
        {
            node = token;
            result = new TokenAuthSettings(settings.ResolvePath(node.String("file", required: true)!));
        }
        else
        {
            node = approle!;
            result = new AppRoleAuthSettings(
                node.String("roleId", required: true)!,
                settings.ResolvePath(node.String("secretIdFile", required: true)!),
                node.String("mount") ?? "approle");
        }
        node.RejectUnknown();
        return result;
    }
}
