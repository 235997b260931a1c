using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;

namespace ConfigInjector.Backends.Vault;

/// <summary>
/// Dynamic credentials over Vault's HTTP API: a read of the engine's path issues one credential with a lease
/// (https://developer.hashicorp.com/vault/api-docs/secret/databases#generate-credentials), renewed and revoked
/// through <c>sys/leases</c> (https://developer.hashicorp.com/vault/api-docs/system/leases). The mount must be one
/// Vault reports as a lease-issuing engine (<see cref="VaultMounts.ResolveEngineAsync"/>).
/// </summary>
internal sealed class VaultLeases(VaultSettings settings, VaultTransport transport, TimeProvider time)
{
    private readonly VaultMounts _mounts = new(settings, transport);

    /// <returns>The issue, and the HTTP status Vault answered it with (a 403 is a refusal of that token).</returns>
    public async Task<(HttpStatusCode Status, IssuedSecret Issued)> IssueAsync(SecretLocation location, IVaultAuth auth, CancellationToken cancellationToken)
    {
        if (location.Version is not null)
            return (HttpStatusCode.NotFound, new IssuedSecret(SecretRead.NotFound(location, "dynamic credentials have no versions: drop the @version"), null));
        try
        {
            var token = await auth.TokenAsync(cancellationToken);
            var answer = await IssueWithTokenAsync(location, token, cancellationToken);
            if (answer.Status == HttpStatusCode.Forbidden && auth.Invalidate(token))
                answer = await IssueWithTokenAsync(location, await auth.TokenAsync(cancellationToken), cancellationToken);
            return answer;
        }
        catch (VaultForbiddenException e)
        {
            return (HttpStatusCode.Forbidden, new IssuedSecret(SecretRead.Failed(location, e.Message), null));
        }
        catch (VaultUnavailableException e)
        {
            return (default, new IssuedSecret(SecretRead.Failed(location, e.Message), null));
        }
        catch (VaultRefusedException e)
        {
            return (HttpStatusCode.NotFound, new IssuedSecret(SecretRead.NotFound(location, e.Message), null));
        }
    }

    private async Task<(HttpStatusCode Status, IssuedSecret Issued)> IssueWithTokenAsync(SecretLocation location, string token, CancellationToken cancellationToken)
    {
        await _mounts.ResolveEngineAsync(location.Path, token, cancellationToken);
        var response = await transport.SendAsync(HttpMethod.Get, location.Path, token, null, cancellationToken);
        if (response.Status == HttpStatusCode.NotFound)
            return (response.Status, new IssuedSecret(SecretRead.NotFound(location, $"vault issues nothing at {location.Path}: {response.Summary}"), null));
        if (!response.Ok)
        {
            var reason = response.Status == HttpStatusCode.Forbidden ? $"{response.Summary} (the Vault policy of this role does not allow reading {location.Path})" : response.Summary;
            return (response.Status, new IssuedSecret(SecretRead.Failed(location, reason), null));
        }
        var body = response.Body;
        var leaseId = body?["lease_id"]?.GetValueKind() == JsonValueKind.String ? body["lease_id"]!.GetValue<string>() : null;
        if (body?["data"] is not JsonObject values || string.IsNullOrEmpty(leaseId) || Seconds(body["lease_duration"]) is not { } ttl)
            return (response.Status, new IssuedSecret(SecretRead.Failed(location, $"vault answered {location.Path} without data and a lease: not a lease-issuing engine"), null));
        var now = time.GetUtcNow();
        var lease = new Lease(leaseId, now, now + ttl, ttl, ttl, body["renewable"]?.GetValueKind() == JsonValueKind.True);
        var data = values.ToDictionary(v => v.Key, v => v.Value?.GetValueKind() == JsonValueKind.String ? v.Value.GetValue<string>() : v.Value?.ToJsonString() ?? "", StringComparer.Ordinal);
        return (response.Status, new IssuedSecret(SecretRead.Found(location, new SecretDocument(Lease.Fingerprint(leaseId), data)), lease));
    }

    /// <summary>Asks Vault's mount table only: nothing is issued. Null for a path in no lease-issuing engine, or when Vault cannot say.</summary>
    public async Task<IssuingEngine?> EngineOfAsync(SecretLocation location, IVaultAuth auth, CancellationToken cancellationToken)
    {
        try
        {
            return await _mounts.ResolveEngineAsync(location.Path, await auth.TokenAsync(cancellationToken), cancellationToken);
        }
        catch (Exception e) when (e is VaultUnavailableException or VaultRefusedException)
        {
            return null;
        }
    }

    /// <summary><c>PUT sys/leases/renew</c> asking for the lease's own TTL again; Vault grants less near the role's max TTL.</summary>
    public async Task<LeaseAnswer> RenewAsync(Lease lease, IVaultAuth auth, CancellationToken cancellationToken)
    {
        var body = new JsonObject { ["lease_id"] = lease.Id, ["increment"] = (long)lease.Ttl.TotalSeconds };
        var (response, failure) = await SendAsync("sys/leases/renew", body, auth, cancellationToken);
        if (failure is not null)
            return failure;
        if (Seconds(response!.Body?["lease_duration"]) is not { } granted)
            return new LeaseAnswer(LeaseOutcome.Failed, null, "vault renewed without a lease_duration");
        return new LeaseAnswer(LeaseOutcome.Done, lease.Renewed(time.GetUtcNow(), granted, response.Body?["renewable"]?.GetValueKind() == JsonValueKind.True), null);
    }

    /// <summary><c>PUT sys/leases/revoke</c>: the credential stops working at once (Vault answers 204, also for a lease it no longer has).</summary>
    public async Task<LeaseAnswer> RevokeAsync(Lease lease, IVaultAuth auth, CancellationToken cancellationToken)
    {
        var (_, failure) = await SendAsync("sys/leases/revoke", new JsonObject { ["lease_id"] = lease.Id }, auth, cancellationToken);
        return failure ?? new LeaseAnswer(LeaseOutcome.Done, null, null);
    }

    private async Task<(VaultResponse? Response, LeaseAnswer? Failure)> SendAsync(string path, JsonObject body, IVaultAuth auth, CancellationToken cancellationToken)
    {
        try
        {
            var token = await auth.TokenAsync(cancellationToken);
            var response = await transport.SendAsync(HttpMethod.Put, path, token, body, cancellationToken);
            if (response.Status == HttpStatusCode.Forbidden && auth.Invalidate(token))
                response = await transport.SendAsync(HttpMethod.Put, path, await auth.TokenAsync(cancellationToken), body, cancellationToken);
            // Vault answers 400 for a lease it does not know (expired, revoked) or cannot renew: it is over.
            if (response.Status == HttpStatusCode.BadRequest)
                return (null, new LeaseAnswer(LeaseOutcome.Gone, null, response.Summary));
            return response.Ok ? (response, null) : (null, new LeaseAnswer(LeaseOutcome.Failed, null, response.Summary));
        }
        catch (VaultUnavailableException e)
        {
            return (null, new LeaseAnswer(LeaseOutcome.Failed, null, e.Message));
        }
    }

    private static TimeSpan? Seconds(JsonNode? node) =>
        node?.GetValueKind() == JsonValueKind.Number && node.GetValue<long>() is var s and > 0 ? TimeSpan.FromSeconds(s) : null;
}
