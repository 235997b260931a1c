using System.Collections.Concurrent;

namespace ConfigInjector.Backends.Vault;

/// <summary>Where a ref's path splits into KV mount and secret path, and which KV version the mount runs.</summary>
internal sealed record KvMount(string Path, KvVersion Version);

/// <summary>
/// Resolves mounts, and refuses every path that is not in a KV secrets engine. The injector's token can read more
/// than KV secrets (its own token at <c>auth/token/lookup-self</c>, fresh database credentials, identity data), so
/// a ref is only ever read after Vault itself said, through <c>sys/internal/ui/mounts/&lt;path&gt;</c> (the call the
/// Vault CLI makes; https://developer.hashicorp.com/vault/api-docs/system/internal-ui-mounts), that its mount is
/// of type <c>kv</c> (or <c>generic</c>, KV's old name) — whatever <c>kvVersion</c> says. With an explicit
/// <c>kvVersion</c> the first path segment must be that mount and Vault's version must agree; with <c>auto</c>
/// nested mounts are found too. Answers are cached per path (bounded).
/// </summary>
internal sealed class VaultMounts(VaultSettings settings, VaultTransport transport)
{
    /// <summary>Vault's own mounts: never KV, refused without asking.</summary>
    private static readonly string[] ReservedMounts = ["auth", "sys", "identity", "cubbyhole"];

    private const int Capacity = 10_000;
    private readonly ConcurrentDictionary<string, KvMount> _known = new(StringComparer.Ordinal);

    public async Task<(KvMount Mount, string SecretPath)> ResolveAsync(string path, string token, CancellationToken cancellationToken)
    {
        var first = path.Split('/', 2)[0];
        if (ReservedMounts.Contains(first, StringComparer.OrdinalIgnoreCase))
            throw new VaultRefusedException($"{first}/ is Vault's own {first} mount, not a KV secrets engine; only KV secrets are read");
        if (!path.Contains('/'))
            throw new VaultRefusedException($"\"{path}\" names no secret under a mount; expected <mount>/<path>");

        var cacheKey = settings.KvVersion == KvVersion.Auto ? path : first;
        if (!_known.TryGetValue(cacheKey, out var mount))
        {
            mount = await LookUpAsync(path, token, cancellationToken);
            if (settings.KvVersion != KvVersion.Auto)
            {
                if (mount.Path != first)
                    throw new VaultRefusedException($"{path} is in the mount {mount.Path}, but with kvVersion {Number(settings.KvVersion)} the first segment ({first}) must be the mount; use kvVersion: auto for nested mounts");
                if (mount.Version != settings.KvVersion)
                    throw new VaultRefusedException($"{mount.Path} is a KV v{Number(mount.Version)} mount, but the backend says kvVersion {Number(settings.KvVersion)}");
            }
            if (_known.Count >= Capacity)
                _known.Clear();
            _known[cacheKey] = mount;
        }
        return (mount, path[(mount.Path.Length + 1)..]);
    }

    private async Task<KvMount> LookUpAsync(string path, string token, CancellationToken cancellationToken)
    {
        var (mountPath, type, data) = await AskAsync(path, token, "KV mount", cancellationToken);
        if (type is not ("kv" or "generic"))
            throw new VaultRefusedException($"{mountPath} is a {type ?? "non-KV"} secrets engine, not KV; reading it needs a SecretPolicy rule with dynamic: true for {path}");
        var version = Text(data?["options"]?["version"]) == "2" ? KvVersion.V2 : KvVersion.V1;
        return new KvMount(mountPath, version);
    }

    /// <summary>
    /// The mount of a path a SecretPolicy rule marks <c>dynamic: true</c>: it must be a lease-issuing engine, never
    /// Vault's own mounts and never KV (whose secrets are read, not issued). Not cached: each issue asks Vault again.
    /// </summary>
    public async Task<IssuingEngine> ResolveEngineAsync(string path, string token, CancellationToken cancellationToken)
    {
        var first = path.Split('/', 2)[0];
        if (ReservedMounts.Contains(first, StringComparer.OrdinalIgnoreCase))
            throw new VaultRefusedException($"{first}/ is Vault's own {first} mount; it never issues credentials to pods");
        var (mountPath, type, _) = await AskAsync(path, token, "mount", cancellationToken);
        if (type is "kv" or "generic" or "cubbyhole" or "identity" or "system" or "token")
            throw new VaultRefusedException($"{mountPath} is a {type} mount, not a lease-issuing secrets engine; drop dynamic: true to read KV secrets");
        return new IssuingEngine(mountPath, type ?? "unknown");
    }

    private async Task<(string Path, string? Type, System.Text.Json.Nodes.JsonNode? Data)> AskAsync(string path, string token, string what, CancellationToken cancellationToken)
    {
        var response = await transport.SendAsync(HttpMethod.Get, "sys/internal/ui/mounts/" + path, token, null, cancellationToken);
        // Vault answers 403 both for "no such mount" and "no access" (so mounts cannot be probed): nothing is read.
        if (response.Status == System.Net.HttpStatusCode.Forbidden)
            throw new VaultForbiddenException($"{response.Summary} (the Vault policy of this role does not allow reading {path})");
        if (!response.Ok)
            throw new VaultUnavailableException($"cannot detect the {what} of {path}: {response.Summary}");
        var data = response.Body?["data"];
        var mountPath = Text(data?["path"])?.TrimEnd('/');
        if (string.IsNullOrEmpty(mountPath) || !path.StartsWith(mountPath + "/", StringComparison.Ordinal))
            throw new VaultRefusedException($"{path} is not under a mount Vault reports");
        return (mountPath, Text(data?["type"]), data);
    }

    private static string? Text(System.Text.Json.Nodes.JsonNode? node) =>
        node?.GetValueKind() == System.Text.Json.JsonValueKind.String ? node.GetValue<string>() : null;

    private static string Number(KvVersion version) => version == KvVersion.V2 ? "2" : "1";
}

/// <summary>Vault refused the token (403): an outage for <c>onBackendError</c>, and a reason to log in again.</summary>
internal sealed class VaultForbiddenException(string message) : VaultUnavailableException(message);

/// <summary>Vault was asked, or would have been asked, for something this backend never reads: the pod is refused in every mode.</summary>
internal sealed class VaultRefusedException(string message) : Exception(message);
