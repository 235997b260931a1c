using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace ConfigInjector.TestSupport.Fakes;

/// <summary>
/// Kubernetes auth for many service accounts, as Vault's plugin does it (vault-plugin-auth-kubernetes path_login.go;
/// https://developer.hashicorp.com/vault/api-docs/auth/kubernetes#login): the role looked up (400 <c>invalid role
/// name</c>), the JWT's claims checked against it — expiry, the role's <c>audience</c> (403 <c>invalid audience (aud)
/// claim</c>), <c>bound_service_account_names</c> (403 <c>service account name not authorized</c>) and
/// <c>bound_service_account_namespaces</c> (403 <c>namespace not authorized</c>) — then the JWT reviewed by the
/// configured <c>kubernetes_host</c> (a TokenReview with the role's audience; 403 <c>permission denied</c> unless it
/// is authenticated as the same service account, uid included). The token it issues carries the role's policy:
/// reads outside the paths that policy grants get 403, as Vault's ACL answers them, and so does the mount lookup of a
/// mount the policy grants nothing under (https://developer.hashicorp.com/vault/api-docs/system/internal-ui-mounts).
/// </summary>
public sealed partial class VaultFake
{
    private sealed record KubernetesRole(string[] Names, string[] Namespaces, string? Audience, TimeSpan Ttl, string[] Readable, bool Renewable);

    private readonly ConcurrentDictionary<string, Uri> _kubernetesHosts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Mount, string Role), KubernetesRole> _roles = new();
    private readonly ConcurrentQueue<string> _readsByRole = new();

    /// <summary><c>auth/&lt;mount&gt;/config</c> with <c>kubernetes_host</c>: the API server that reviews each login's JWT.</summary>
    public void ConfigureKubernetesAuth(string mount, Uri kubernetesHost) => _kubernetesHosts[mount] = kubernetesHost;

    /// <summary>
    /// A role of a Kubernetes auth mount (<c>vault write auth/&lt;mount&gt;/role/&lt;role&gt;</c>) whose policy grants
    /// <c>read</c> below the API paths in <paramref name="readable"/> (e.g. <c>secret/data/shop/</c>) and nothing else.
    /// </summary>
    public void AddKubernetesRole(string mount, string role, string[] serviceAccountNames, string[] namespaces, string? audience, TimeSpan ttl, string[] readable, bool renewable = true) =>
        _roles[(mount, role)] = new KubernetesRole(serviceAccountNames, namespaces, audience, ttl, readable, renewable);

    /// <summary>Every token issued at a login (never the root token): no log, Event or message may hold one.</summary>
    public IReadOnlyCollection<string> IssuedTokens => [.. _tokens.Keys.Where(t => t != RootToken)];

    /// <summary>Reads made with tokens of a Kubernetes role, as "role path".</summary>
    public IReadOnlyCollection<string> ReadsByRole => _readsByRole;

    private async Task<bool> KubernetesLoginAsync(HttpContext context, string mount)
    {
        if (!_kubernetesHosts.TryGetValue(mount, out var host))
            return false;
        var body = await context.Request.ReadFromJsonAsync<JsonObject>();
        var roleName = body?["role"]?.GetValue<string>();
        var jwt = body?["jwt"]?.GetValue<string>();
        if (string.IsNullOrEmpty(roleName) || string.IsNullOrEmpty(jwt))
        {
            await Error(context, 400, string.IsNullOrEmpty(roleName) ? "missing role" : "missing jwt");
            return true;
        }
        if (!_roles.TryGetValue((mount, roleName), out var role))
        {
            await Error(context, 400, $"invalid role name \"{roleName}\"");
            return true;
        }
        var claims = Claims(jwt);
        var refusal = claims is null ? "failed to parse JWT"
            : claims["exp"]?.GetValue<long>() is { } exp && DateTimeOffset.FromUnixTimeSeconds(exp) <= _time.GetUtcNow() ? "token is expired (exp)"
            : role.Audience is not null && !(claims["aud"]?.AsArray().Any(a => a?.GetValue<string>() == role.Audience) ?? false) ? "invalid audience (aud) claim: audience claim does not match any expected audience"
            : !Matches(role.Names, Text(claims, "serviceaccount", "name")) ? "service account name not authorized"
            : !Matches(role.Namespaces, claims["kubernetes.io"]?["namespace"]?.GetValue<string>()) ? "namespace not authorized"
            : await ReviewAsync(host, jwt, role.Audience, claims) ? null : "permission denied";
        if (refusal is not null)
        {
            await Error(context, 403, refusal);
            return true;
        }
        var token = $"hvs.fake-{Interlocked.Increment(ref _issued)}";
        _tokens[token] = new Token(_time.GetUtcNow() + role.Ttl, role.Renewable, role.Ttl, role.Readable, roleName);
        await Json(context, 200, Auth(token, role.Ttl, role.Renewable));
        return true;
    }

    /// <summary>The role's ACL for a GET with a token of a Kubernetes role: null when it allows it, else the 403's error.</summary>
    private string? Acl(Token lease, string path)
    {
        // Vault's default policy lets every token look itself up.
        if (lease.Readable is null || path == "auth/token/lookup-self")
            return null;
        if (path.StartsWith("sys/internal/ui/mounts/", StringComparison.Ordinal))
        {
            var looked = path["sys/internal/ui/mounts/".Length..];
            var mount = FindMount(looked)?.Mount ?? _engines.Keys.FirstOrDefault(e => looked.StartsWith(e + "/", StringComparison.Ordinal));
            return mount is not null && lease.Readable.Any(r => r.StartsWith(mount + "/", StringComparison.Ordinal))
                ? null
                : $"preflight capability check returned 403, please ensure client's policies grant access to path \"{mount ?? path}/\"";
        }
        _readsByRole.Enqueue($"{lease.Role} {path}");
        return lease.Readable.Any(r => path.StartsWith(r, StringComparison.Ordinal)) ? null : "1 error occurred:\n\t* permission denied\n\n";
    }

    // Vault sends the client's own JWT as the reviewer's bearer when no token_reviewer_jwt is configured.
    private static async Task<bool> ReviewAsync(Uri host, string jwt, string? audience, JsonObject claims)
    {
        using var http = new HttpClient { BaseAddress = host };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", jwt);
        var review = new JsonObject
        {
            ["apiVersion"] = "authentication.k8s.io/v1",
            ["kind"] = "TokenReview",
            ["spec"] = new JsonObject { ["token"] = jwt, ["audiences"] = audience is null ? claims["aud"]?.DeepClone() : new JsonArray(audience) },
        };
        using var response = await http.PostAsJsonAsync("apis/authentication.k8s.io/v1/tokenreviews", review);
        var status = (await response.Content.ReadFromJsonAsync<JsonObject>())?["status"];
        var ns = claims["kubernetes.io"]?["namespace"]?.GetValue<string>();
        return status?["authenticated"]?.GetValue<bool>() == true
            && status["user"]?["username"]?.GetValue<string>() == $"system:serviceaccount:{ns}:{Text(claims, "serviceaccount", "name")}"
            && status["user"]?["uid"]?.GetValue<string>() == Text(claims, "serviceaccount", "uid");
    }

    private static JsonObject? Claims(string jwt)
    {
        var parts = jwt.Split('.');
        try
        {
            return parts.Length == 3 ? JsonNode.Parse(Base64Url.DecodeFromChars(parts[1]))?.AsObject() : null;
        }
        catch (Exception e) when (e is FormatException or System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static string? Text(JsonObject claims, string section, string field) => claims["kubernetes.io"]?[section]?[field]?.GetValue<string>();

    // strutil.StrListContainsGlob: "*" alone, or a trailing/leading "*" as a glob.
    private static bool Matches(string[] bound, string? value) =>
        value is not null && bound.Any(b => b == "*" || b == value
            || (b.EndsWith('*') && value.StartsWith(b[..^1], StringComparison.Ordinal))
            || (b.StartsWith('*') && value.EndsWith(b[1..], StringComparison.Ordinal)));
}
