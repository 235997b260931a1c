using System.Collections.Concurrent;

namespace ConfigInjector.Backends.Vault;

/// <summary>Where a ref's path splits into KV mount and secret path, and which KV version the mount runs.</summary>
public sealed record KvMount(string Path, KvVersion Version);

/// <summary>
/// Resolves mounts: with an explicit <c>kvVersion</c> the first path segment is the mount; with <c>auto</c>
/// each secret path is looked up once through <c>sys/internal/ui/mounts/&lt;path&gt;</c> (the call the Vault CLI
/// makes), so a mount nested under another (<c>secret/team</c> under <c>secret</c>) is still found.
/// </summary>
public sealed class VaultMounts(VaultSettings settings, VaultTransport transport)
{
    private readonly ConcurrentDictionary<string, KvMount> _detected = new(StringComparer.Ordinal);

    public async Task<(KvMount Mount, string SecretPath)> ResolveAsync(string path, string token, CancellationToken cancellationToken)
    {
        if (settings.KvVersion != KvVersion.Auto)
        {
            var slash = path.IndexOf('/');
            if (slash < 0)
                throw new VaultUnavailableException($"\"{path}\" names no secret under a mount; expected <mount>/<path>");
            return (new KvMount(path[..slash], settings.KvVersion), path[(slash + 1)..]);
        }

        if (_detected.TryGetValue(path, out var known))
            return (known, path[(known.Path.Length + 1)..]);

        var response = await transport.SendAsync(HttpMethod.Get, "sys/internal/ui/mounts/" + path, token, null, cancellationToken);
        if (!response.Ok)
            throw new VaultUnavailableException($"cannot detect the KV mount of {path}: {response.Summary}");
        var data = response.Body?["data"];
        var mountPath = data?["path"]?.GetValue<string>()?.TrimEnd('/');
        if (string.IsNullOrEmpty(mountPath) || !path.StartsWith(mountPath + "/", StringComparison.Ordinal))
            throw new VaultUnavailableException($"{path} is not under a KV mount");
        var type = data?["type"]?.GetValue<string>();
        if (type is not ("kv" or "generic"))
            throw new VaultUnavailableException($"{mountPath} is a {type} mount, not KV");
        var version = data?["options"]?["version"]?.GetValue<string>() == "2" ? KvVersion.V2 : KvVersion.V1;
        var mount = _detected.GetOrAdd(path, new KvMount(mountPath, version));
        return (mount, path[(mountPath.Length + 1)..]);
    }
}
