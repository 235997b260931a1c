using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace ConfigInjector.TestSupport.Fakes;

/// <summary>
/// Workload identity federation at the fake's Entra token endpoint, and Key Vault's per-identity authorisation:
/// - an app (or user-assigned managed identity) trusts a Kubernetes service account through a federated identity
///   credential: issuer, subject <c>system:serviceaccount:&lt;ns&gt;:&lt;sa&gt;</c> and audience
///   <c>api://AzureADTokenExchange</c> (https://learn.microsoft.com/entra/workload-id/workload-identity-federation,
///   https://learn.microsoft.com/azure/aks/workload-identity-overview);
/// - POST /{tenant}/oauth2/v2.0/token with grant_type=client_credentials, a <c>.default</c> scope, client_id,
///   client_assertion_type <c>urn:ietf:params:oauth:client-assertion-type:jwt-bearer</c> and the service-account token
///   as client_assertion (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow#third-case-access-token-request-with-a-federated-credential):
///   the assertion's signature must verify with the issuer's key (here the API fake's service-account signing key), and
///   its iss, sub and aud must match one federated credential of that client id, within exp/nbf; otherwise 400
///   invalid_client with the AADSTS code Entra uses (700211 issuer, 700213 subject, 700212 audience, 700024 time
///   range, 50027 malformed or badly signed);
/// - Key Vault (Azure RBAC) then lets a federated client read secrets only with a role assignment, on the whole vault
///   (<see cref="AddFederatedIdentity"/>'s <c>mayRead</c>) or on one secret (<see cref="GrantRead"/>, a secret-scope
///   assignment); otherwise 403 Forbidden, inner code ForbiddenByRbac
///   (https://learn.microsoft.com/azure/key-vault/general/rbac-guide). Key Vault checks the assignments at each
///   request, not when the token is issued, so one withdrawn (<see cref="WithdrawRead"/>) refuses tokens already held.
/// </summary>
public sealed partial class KeyVaultFake
{
    public const string TokenExchangeAudience = "api://AzureADTokenExchange";
    private const string JwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    private sealed record FederatedCredential(string Issuer, string Subject, string Audience);

    private readonly ConcurrentDictionary<string, FederatedCredential> _federated = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _federatedTokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _readers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Client, string Secret), bool> _secretReaders = new();
    private readonly ConcurrentQueue<string> _readsByClient = new();

    /// <summary>The clock the assertion's exp and nbf are checked by.</summary>
    public TimeProvider Time { get; set; } = TimeProvider.System;

    /// <summary>"&lt;client id&gt; &lt;secret name&gt;" for every secret a federated client read.</summary>
    public IReadOnlyCollection<string> ReadsByClient => _readsByClient;

    /// <summary>Every access token the token endpoint handed out to a federated client: no log, Event or message may hold one.</summary>
    public IReadOnlyCollection<string> IssuedAccessTokens => [.. _federatedTokens.Keys, _accessToken];

    /// <summary>A client id whose federated credential trusts <paramref name="namespace"/>/<paramref name="serviceAccount"/>'s tokens; <paramref name="mayRead"/> grants it 'Key Vault Secrets User'.</summary>
    public void AddFederatedIdentity(string clientId, string @namespace, string serviceAccount, bool mayRead, string issuer = KubeApiFake.ServiceAccountIssuer)
    {
        _federated[clientId] = new FederatedCredential(issuer, $"system:serviceaccount:{@namespace}:{serviceAccount}", TokenExchangeAudience);
        if (mayRead)
            _readers[clientId] = true;
    }

    /// <summary>
    /// The <c>backends:</c> entry of a Key Vault backend on this fake with <c>identity: pod</c> (tokens exchanged at its
    /// Entra endpoint, one attempt, a 5s timeout); more fields in <paramref name="backendFields"/>.
    /// </summary>
    public string PodIdentityBackendConfig(string name = "kv-prod", params string[] backendFields) =>
        $"backends:\n  - name: {name}\n    type: azure-keyvault\n    identity: pod\n    vaultUri: {Address}\n    tenantId: {TenantId}\n"
        + $"    authorityHost: {Address}\n    caFile: {CaFile}\n    disableChallengeResourceVerification: true\n    timeout: 5s\n    retry: {{ attempts: 1 }}\n"
        + string.Concat(backendFields.Where(f => f.Length > 0).Select(f => $"    {f}\n"));

    /// <summary>'Key Vault Secrets User' for <paramref name="clientId"/> on the secret <paramref name="secretName"/> only.</summary>
    public void GrantRead(string clientId, string secretName) => _secretReaders[(clientId, secretName.ToLowerInvariant())] = true;

    /// <summary>Removes every role assignment of <paramref name="clientId"/> on this vault and its secrets.</summary>
    public void WithdrawRead(string clientId)
    {
        _readers.TryRemove(clientId, out _);
        foreach (var assignment in _secretReaders.Keys.Where(k => k.Client == clientId))
            _secretReaders.TryRemove(assignment, out _);
    }

    /// <summary>Whether a role assignment lets <paramref name="clientId"/> read <paramref name="secretName"/> (names are case-insensitive).</summary>
    private bool MayRead(string clientId, string secretName) =>
        _readers.ContainsKey(clientId) || _secretReaders.ContainsKey((clientId, secretName.ToLowerInvariant()));

    private async Task FederatedTokenAsync(HttpContext context, string tenant, IFormCollection form, FederatedCredential credential)
    {
        var refusal = FederationRefusal(tenant, form, credential);
        if (refusal is not null)
        {
            await Json(context, 400, new JsonObject { ["error"] = refusal.Value.Error, ["error_description"] = refusal.Value.Description, ["error_codes"] = new JsonArray(refusal.Value.Code) });
            return;
        }
        var clientId = form["client_id"].ToString();
        var token = $"fake-federated-access-token-{Guid.NewGuid():N}";
        _federatedTokens[token] = clientId;
        await Json(context, 200, new JsonObject { ["token_type"] = "Bearer", ["expires_in"] = 3599, ["ext_expires_in"] = 3599, ["access_token"] = token });
    }

    private (string Error, int Code, string Description)? FederationRefusal(string tenant, IFormCollection form, FederatedCredential credential)
    {
        if (tenant != TenantId)
            return ("invalid_request", 90002, $"AADSTS90002: Tenant '{tenant}' not found.");
        if (form["grant_type"] != "client_credentials")
            return ("unsupported_grant_type", 70003, "AADSTS70003: The app requested an unsupported grant type.");
        if (form["scope"].ToString() is not { Length: > 0 } scope || !scope.EndsWith("/.default", StringComparison.Ordinal))
            return ("invalid_scope", 70011, "AADSTS70011: The provided request must include a 'scope' input parameter ending in /.default.");
        if (form["client_assertion_type"] != JwtBearer || form.ContainsKey("client_secret"))
            return ("invalid_request", 90014, "AADSTS90014: client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer.");
        var claims = KubeApiFake.VerifiedClaims(form["client_assertion"].ToString());
        if (claims is null)
            return ("invalid_client", 50027, "AADSTS50027: JWT token is invalid or malformed (its signature does not verify with the issuer's keys).");
        if (claims["iss"]?.GetValue<string>() != credential.Issuer)
            return ("invalid_client", 700211, "AADSTS700211: No matching federated identity record found for presented assertion issuer.");
        if (claims["sub"]?.GetValue<string>() != credential.Subject)
            return ("invalid_client", 700213, $"AADSTS700213: No matching federated identity record found for presented assertion subject '{claims["sub"]}'.");
        if (claims["aud"] is not JsonArray audiences || !audiences.Any(a => a?.GetValue<string>() == credential.Audience))
            return ("invalid_client", 700212, "AADSTS700212: No matching federated identity record found for presented assertion audience.");
        var now = Time.GetUtcNow().ToUnixTimeSeconds();
        if (claims["exp"]?.GetValue<long>() is not { } exp || exp <= now || claims["nbf"]?.GetValue<long>() > now)
            return ("invalid_client", 700024, "AADSTS700024: Client assertion is not within its valid time range.");
        return null;
    }

    /// <summary>The federated client a request's bearer token was issued to; null for any other token.</summary>
    private string? FederatedClient(HttpContext context) =>
        context.Request.Headers.Authorization.ToString() is { } header && header.StartsWith("Bearer ", StringComparison.Ordinal)
            && _federatedTokens.TryGetValue(header["Bearer ".Length..], out var client) ? client : null;
}
