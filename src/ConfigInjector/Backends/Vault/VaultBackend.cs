using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;
using ConfigInjector.ManagedSecrets;

namespace ConfigInjector.Backends.Vault;

/// <summary>
/// HashiCorp Vault and OpenBao KV v1/v2 over the documented HTTP API
/// (https://developer.hashicorp.com/vault/api-docs/secret/kv/kv-v2 and .../kv-v1).
/// </summary>
internal sealed class VaultBackend(string name, VaultReads reads, IVaultAuth auth) : ISecretBackend, IIssuesLeases
{
    public string Name => name;

    public async ValueTask<IssuedSecret> IssueAsync(SecretLocation location, Subject? serviceAccount, CancellationToken cancellationToken) =>
        (await reads.Leases.IssueAsync(location, auth, cancellationToken)).Issued;

    public async ValueTask<IssuingEngine?> EngineOfAsync(SecretLocation location, Subject? serviceAccount, CancellationToken cancellationToken) =>
        await reads.Leases.EngineOfAsync(location, auth, cancellationToken);

    public async ValueTask<LeaseAnswer> RenewAsync(Lease lease, Subject? serviceAccount, CancellationToken cancellationToken) =>
        await reads.Leases.RenewAsync(lease, auth, cancellationToken);

    public async ValueTask<LeaseAnswer> RevokeAsync(Lease lease, Subject? serviceAccount, CancellationToken cancellationToken) =>
        await reads.Leases.RevokeAsync(lease, auth, cancellationToken);

    public async ValueTask<SecretRead> ReadAsync(SecretLocation location, CancellationToken cancellationToken) =>
        (await reads.ReadAsync(location, auth, cancellationToken)).Read;
}

/// <summary>Reads of KV secrets with whatever token an <see cref="IVaultAuth"/> gives: the webhook's own, or a service account's.</summary>
/// <remarks>
/// KV v1 keeps no versions: a keyed HMAC of the content stands in (<see cref="ContentVersion"/> with the install's
/// <paramref name="versions"/> key), so a change is visible, every process agrees on it, and it reveals nothing.
/// </remarks>
internal sealed class VaultReads(VaultSettings settings, VaultTransport transport, IVersionKey versions)
{
    private readonly VaultMounts _mounts = new(settings, transport);

    /// <summary>Dynamic credentials of the same Vault, for paths a SecretPolicy rule marks <c>dynamic: true</c>.</summary>
    public VaultLeases Leases { get; } = new(settings, transport, transport.Time);

    /// <returns>The read, and the last HTTP status Vault answered it with (a 403 is a refusal of that token).</returns>
    public async Task<(HttpStatusCode Status, SecretRead Read)> ReadAsync(SecretLocation location, IVaultAuth auth, CancellationToken cancellationToken)
    {
        try
        {
            var token = await auth.TokenAsync(cancellationToken);
            var response = await ReadWithTokenAsync(location, token, cancellationToken);
            if (response.Status == HttpStatusCode.Forbidden && auth.Invalidate(token))
                response = await ReadWithTokenAsync(location, await auth.TokenAsync(cancellationToken), cancellationToken);
            return response;
        }
        catch (VaultUnavailableException e)
        {
            return (default, SecretRead.Failed(location, e.Message));
        }
        catch (VaultRefusedException e)
        {
            // Not an outage: the ref names something that is not a KV secret, so no onBackendError mode may admit it.
            return (HttpStatusCode.NotFound, SecretRead.NotFound(location, e.Message));
        }
    }

    private async Task<(HttpStatusCode Status, SecretRead Read)> ReadWithTokenAsync(SecretLocation location, string token, CancellationToken cancellationToken)
    {
        KvMount mount;
        string rest;
        try
        {
            (mount, rest) = await _mounts.ResolveAsync(location.Path, token, cancellationToken);
        }
        catch (VaultForbiddenException e)
        {
            return (HttpStatusCode.Forbidden, SecretRead.Failed(location, e.Message));
        }
        if (mount.Version == KvVersion.V1 && location.Version is not null)
            return (HttpStatusCode.NotFound, SecretRead.NotFound(location, $"{mount.Path} is a KV v1 mount, which keeps no versions"));
        if (mount.Version == KvVersion.V2 && location.Version is not null && !int.TryParse(location.Version, out _))
            return (HttpStatusCode.NotFound, SecretRead.NotFound(location, $"KV v2 versions are numbers, not \"{location.Version}\""));

        var path = mount.Version == KvVersion.V2
            ? $"{mount.Path}/data/{rest}{(location.Version is null ? "" : "?version=" + location.Version)}"
            : $"{mount.Path}/{rest}";
        var response = await transport.SendAsync(HttpMethod.Get, path, token, null, cancellationToken);
        return (response.Status, response.Status switch
        {
            HttpStatusCode.OK => await ParseAsync(location, mount, response.Body, cancellationToken),
            HttpStatusCode.NotFound => SecretRead.NotFound(location, NotFoundReason(location, response.Body)),
            HttpStatusCode.Forbidden => SecretRead.Failed(location, $"{response.Summary} (the Vault policy of this role does not allow reading {mount.Path}/{rest})"),
            _ => SecretRead.Failed(location, response.Summary),
        });
    }

    private async Task<SecretRead> ParseAsync(SecretLocation location, KvMount mount, JsonNode? body, CancellationToken cancellationToken)
    {
        var data = mount.Version == KvVersion.V2 ? body?["data"]?["data"] : body?["data"];
        if (data is not JsonObject values)
            return SecretRead.Failed(location, "vault answered 200 without a data object");
        var document = values.ToDictionary(v => v.Key, v => AsString(v.Value), StringComparer.Ordinal);
        if (mount.Version == KvVersion.V2)
            return SecretRead.Found(location, new SecretDocument(body?["data"]?["metadata"]?["version"]?.ToJsonString() ?? "0", document));
        try
        {
            return SecretRead.Found(location, new SecretDocument(ContentVersion.Of(await versions.GetAsync(cancellationToken), document), document));
        }
        catch (ManagedSecretException e)
        {
            return SecretRead.Failed(location, $"no version key for KV v1: {e.Message}");
        }
    }

    private static string NotFoundReason(SecretLocation location, JsonNode? body)
    {
        var metadata = body?["data"]?["metadata"];
        var version = metadata?["version"]?.ToJsonString() ?? location.Version ?? "latest";
        if (metadata?["destroyed"]?.GetValue<bool>() == true)
            return $"version {version} of {location.Path} was destroyed";
        if (metadata?["deletion_time"]?.GetValue<string>() is { Length: > 0 } deleted)
            return $"version {version} of {location.Path} was deleted at {deleted}";
        return location.Version is null ? $"no secret at {location.Path}" : $"no version {location.Version} of {location.Path}";
    }

    private static string AsString(JsonNode? value) => value?.GetValueKind() switch
    {
        JsonValueKind.String => value.GetValue<string>(),
        null or JsonValueKind.Null => "",
        _ => value.ToJsonString(),
    };
}
