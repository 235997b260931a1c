using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace ConfigInjector.TestSupport.Fakes;

/// <summary>
/// An in-process, stateful Azure Key Vault (secrets) plus the Microsoft Entra token endpoint it needs, on loopback HTTPS:
/// - GET /secrets/{name}/{version?}?api-version= — https://learn.microsoft.com/rest/api/keyvault/secrets/get-secret/get-secret
/// - challenge-based auth: a request without a bearer token gets 401 with
///   <c>WWW-Authenticate: Bearer authorization="…/{tenant}", resource="…"</c> —
///   https://learn.microsoft.com/azure/key-vault/general/authentication-requests-and-responses
/// - errors as {"error": {"code", "message", "innererror": {"code"}}}: SecretNotFound (404), Forbidden with
///   SecretDisabled / SecretExpired (403), Throttled (429 with Retry-After) — same page, "Error codes"
/// - POST /{tenant}/oauth2/v2.0/token (client credentials) —
///   https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
/// </summary>
public sealed partial class KeyVaultFake : IAsyncDisposable
{
    public const string TenantId = "7a9e4c2d-1b3f-4e5a-8c6d-9f0e1a2b3c4d";
    public const string ClientId = "0f1e2d3c-4b5a-4697-8877-665544332211";
    public const string ClientSecret = "fake-entra-client-secret";

    /// <summary>The projected service-account token workload identity presents as its client assertion.</summary>
    public const string FederatedToken = "eyJ.fake-federated-service-account-token";

    private sealed record Version(string Id, string Value, DateTimeOffset Created)
    {
        public bool Enabled { get; set; } = true;
        public DateTimeOffset? Expires { get; set; }
    }

    private readonly ConcurrentDictionary<string, List<Version>> _secrets = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentQueue<string> _requests = new();
    private readonly string _accessToken = "fake-access-token-" + Guid.NewGuid().ToString("N");
    private LoopbackHttpsServer? _server;
    private int _throttle;
    private int _retryAfterSeconds;

    public Uri Address => _server!.Address;
    public string CaFile => _server!.CaFile;
    public TimeSpan Delay { get; set; }
    public IReadOnlyCollection<string> Requests => _requests;

    public static async Task<KeyVaultFake> StartAsync()
    {
        var fake = new KeyVaultFake();
        fake._server = await LoopbackHttpsServer.StartAsync(fake.Map);
        return fake;
    }

    public async Task StopAsync()
    {
        if (_server is not null)
            await _server.DisposeAsync();
    }

    /// <summary>Sets a new version of a secret and returns its version id.</summary>
    public string Set(string name, string value)
    {
        var version = new Version(Guid.NewGuid().ToString("N"), value, DateTimeOffset.UtcNow);
        var versions = _secrets.GetOrAdd(name, _ => []);
        lock (versions)
            versions.Add(version);
        return version.Id;
    }

    public void Disable(string name) => _secrets[name][^1].Enabled = false;

    public void Expire(string name) => _secrets[name][^1].Expires = DateTimeOffset.UtcNow.AddMinutes(-1);

    public void Throttle(int count, int retryAfterSeconds = 0)
    {
        _retryAfterSeconds = retryAfterSeconds;
        Interlocked.Exchange(ref _throttle, count);
    }

    public int Count(string prefix) => _requests.Count(r => r.StartsWith(prefix, StringComparison.Ordinal));

    public ValueTask DisposeAsync() => _server?.DisposeAsync() ?? ValueTask.CompletedTask;

    private void Map(WebApplication app)
    {
        app.MapPost("/{tenant}/oauth2/v2.0/token", TokenAsync);
        app.MapGet("/secrets/{name}/{version?}", GetSecretAsync);
    }

    private async Task TokenAsync(HttpContext context, string tenant)
    {
        _requests.Enqueue($"POST token {tenant}");
        var form = await context.Request.ReadFormAsync();
        if (_federated.TryGetValue(form["client_id"].ToString(), out var federated))
        {
            await FederatedTokenAsync(context, tenant, form, federated);
            return;
        }
        var secretOk = form["client_secret"] == ClientSecret;
        var assertionOk = form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" && form["client_assertion"] == FederatedToken;
        if (tenant != TenantId || form["client_id"] != ClientId || !(secretOk || assertionOk) || form["grant_type"] != "client_credentials")
        {
            await Json(context, 401, new JsonObject { ["error"] = "invalid_client", ["error_description"] = "AADSTS7000215: Invalid client secret provided." });
            return;
        }
        await Json(context, 200, new JsonObject
        {
            ["token_type"] = "Bearer",
            ["expires_in"] = 3599,
            ["ext_expires_in"] = 3599,
            ["access_token"] = _accessToken,
        });
    }

    private async Task GetSecretAsync(HttpContext context, string name, string? version)
    {
        var client = FederatedClient(context);
        if (client is not null && !MayRead(client, name))
        {
            _requests.Enqueue($"GET forbidden {name} as {client}");
            await Error(context, 403, "Forbidden", $"Caller is not authorized to perform action on resource. Caller: appid={client}. Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'", "ForbiddenByRbac");
            return;
        }
        if (client is not null)
            _readsByClient.Enqueue($"{client} {name}");
        else if (context.Request.Headers.Authorization != "Bearer " + _accessToken)
        {
            _requests.Enqueue($"GET challenge {name}");
            var origin = Address.GetLeftPart(UriPartial.Authority);
            context.Response.Headers.WWWAuthenticate = $"Bearer authorization=\"{origin}/{TenantId}\", resource=\"{origin}\"";
            await Error(context, 401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.");
            return;
        }
        _requests.Enqueue($"GET secret {name}{(version is null ? "" : "/" + version)}");
        if (Delay > TimeSpan.Zero)
            await Task.Delay(Delay, context.RequestAborted);
        if (Interlocked.Decrement(ref _throttle) >= 0)
        {
            context.Response.Headers.RetryAfter = _retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            await Error(context, 429, "Throttled", "Rate limit is exceeded. Try again in " + _retryAfterSeconds + " seconds.");
            return;
        }
        Version? found = null;
        if (_secrets.TryGetValue(name, out var versions))
        {
            lock (versions)
                found = version is null ? versions.LastOrDefault() : versions.FirstOrDefault(v => v.Id == version);
        }
        if (found is null)
        {
            await Error(context, 404, "SecretNotFound", $"A secret with (name/id) {name}{(version is null ? "" : "/" + version)} was not found in this key vault.");
            return;
        }
        if (!found.Enabled)
        {
            await Error(context, 403, "Forbidden", "Operation get is not allowed on a disabled secret.", "SecretDisabled");
            return;
        }
        if (found.Expires <= DateTimeOffset.UtcNow)
        {
            await Error(context, 403, "Forbidden", "Operation get is not allowed on a expired secret.", "SecretExpired");
            return;
        }
        var attributes = new JsonObject
        {
            ["enabled"] = found.Enabled,
            ["created"] = found.Created.ToUnixTimeSeconds(),
            ["updated"] = found.Created.ToUnixTimeSeconds(),
            ["recoveryLevel"] = "Recoverable+Purgeable",
        };
        if (found.Expires is { } expires)
            attributes["exp"] = expires.ToUnixTimeSeconds();
        await Json(context, 200, new JsonObject
        {
            ["value"] = found.Value,
            ["id"] = $"{Address.GetLeftPart(UriPartial.Authority)}/secrets/{name}/{found.Id}",
            ["attributes"] = attributes,
            ["tags"] = new JsonObject(),
        });
    }

    private static Task Error(HttpContext context, int status, string code, string message, string? inner = null)
    {
        var error = new JsonObject { ["code"] = code, ["message"] = message };
        if (inner is not null)
            error["innererror"] = new JsonObject { ["code"] = inner };
        return Json(context, status, new JsonObject { ["error"] = error });
    }

    private static async Task Json(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(body.ToJsonString());
    }
}
