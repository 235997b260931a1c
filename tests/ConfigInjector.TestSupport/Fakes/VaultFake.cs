using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace ConfigInjector.TestSupport.Fakes;

/// <summary>
/// An in-process, stateful HashiCorp Vault that speaks the documented HTTP API on loopback HTTPS:
/// - KV v2: GET /v1/:mount/data/:path?version=N — https://developer.hashicorp.com/vault/api-docs/secret/kv/kv-v2#read-secret-version
///   (a soft-deleted or destroyed version answers 404 with its metadata, data null)
/// - KV v1: GET /v1/:mount/:path — https://developer.hashicorp.com/vault/api-docs/secret/kv/kv-v1#read-secret
/// - GET /v1/sys/internal/ui/mounts/:path — the mount lookup the Vault CLI uses to find a path's KV version
/// - POST /v1/auth/:mount/login — Kubernetes (https://developer.hashicorp.com/vault/api-docs/auth/kubernetes#login)
///   and AppRole (https://developer.hashicorp.com/vault/api-docs/auth/approle#login-with-approle), refused as Vault
///   refuses them: 400 "missing role" / "invalid role name" (Kubernetes), "missing role_id" / "invalid role or secret
///   ID" (AppRole), 403 "permission denied" for a JWT the role does not accept.
/// - POST /v1/auth/token/renew-self, GET /v1/auth/token/lookup-self — https://developer.hashicorp.com/vault/api-docs/auth/token
/// - X-Vault-Token, X-Vault-Namespace; errors as {"errors": [...]} — https://developer.hashicorp.com/vault/api-docs#error-response
/// - 503 while sealed, 429 with Retry-After when rate limited.
/// - Other engines mounted beside KV (e.g. <c>database</c>, whose <c>creds/:role</c> mints credentials on every read:
///   https://developer.hashicorp.com/vault/api-docs/secret/databases#generate-credentials), reported by the mount
///   lookup with their own <c>type</c>; a path under no mount gets 403 from the lookup, as Vault answers it
///   (https://developer.hashicorp.com/vault/api-docs/system/internal-ui-mounts).
/// - A standby's 307 to another address (https://developer.hashicorp.com/vault/docs/concepts/ha) and oversized answers.
/// </summary>
public sealed partial class VaultFake : IAsyncDisposable
{
    private sealed record KvVersion(Dictionary<string, string> Data, DateTimeOffset Created)
    {
        public DateTimeOffset? Deleted { get; set; }
        public bool Destroyed { get; set; }
    }

    /// <param name="Readable">The API paths its policy lets it read below; null for a token with no ACL of its own here.</param>
    private sealed record Token(DateTimeOffset? ExpiresAt, bool Renewable, TimeSpan Ttl, string[]? Readable = null, string? Role = null);

    /// <param name="RoleField">The body field that names the role: <c>role</c> (Kubernetes) or <c>role_id</c> (AppRole).</param>
    /// <param name="CredentialField">The body field that proves it: <c>jwt</c> or <c>secret_id</c>.</param>
    private sealed record Login(string RoleField, string Role, string CredentialField, string Credential, TimeSpan Ttl);

    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, int> _mounts = new();
    private readonly ConcurrentDictionary<string, string> _engines = new();
    private readonly ConcurrentBag<string> _denied = [];
    private readonly ConcurrentDictionary<string, List<KvVersion>> _secrets = new();
    private readonly ConcurrentDictionary<string, Token> _tokens = new();
    private readonly ConcurrentDictionary<string, Login> _logins = new();
    private readonly ConcurrentQueue<string> _requests = new();
    private LoopbackHttpsServer? _server;
    private int _throttle;
    private int _retryAfterSeconds;
    private int _issued;

    private VaultFake(TimeProvider time)
    {
        _time = time;
        _tokens[RootToken] = new Token(null, false, TimeSpan.Zero);
    }

    public const string RootToken = "hvs.fake-root-token";

    public Uri Address => _server!.Address;
    public string CaFile => _server!.CaFile;
    public bool Sealed { get; set; }
    public TimeSpan Delay { get; set; }

    /// <summary>Runs as each request arrives, before it is answered: lets a test change the world while a read is in flight.</summary>
    public Action<string>? OnRequest { get; set; }

    /// <summary>Awaited as each request arrives (after <see cref="OnRequest"/>), before it is answered: holds a request in flight until the test lets it go.</summary>
    public Func<string, Task>? Hold { get; set; }
    public string? RequiredNamespace { get; set; }
    public IReadOnlyCollection<string> Requests => _requests;

    public static async Task<VaultFake> StartAsync(TimeProvider? time = null)
    {
        var fake = new VaultFake(time ?? TimeProvider.System);
        fake._server = await LoopbackHttpsServer.StartAsync(app => fake.MapRoutes(app));
        return fake;
    }

    /// <summary>Stops answering (connection refused) until <see cref="RestartAsync"/>.</summary>
    public async Task StopAsync()
    {
        if (_server is not null)
            await _server.DisposeAsync();
    }

    public async Task RestartAsync()
    {
        var port = _server!.Address.Port;
        _server = await LoopbackHttpsServer.StartAsync(MapRoutes, port, _server.Folder);
    }

    private void MapRoutes(WebApplication app)
    {
        app.UseWebSockets();
        app.Map("/v1/{**path}", HandleAsync);
    }

    public void EnableKv(string mount, int version) => _mounts[mount] = version;

    /// <summary>Mounts a non-KV engine: every GET under it answers 200 with fresh credentials, as a database engine would.</summary>
    public void EnableEngine(string mount, string type) => _engines[mount] = type;

    /// <summary>
    /// A Vault policy that does not grant <c>read</c> below this API path (e.g. <c>secret/data/app/db</c>): reads get
    /// 403 "permission denied" with a valid token, as Vault's ACL answers them.
    /// </summary>
    public void DenyRead(string apiPathPrefix) => _denied.Add(apiPathPrefix);

    /// <summary>When set, every request is answered with a 307 to this address (a standby that does not forward).</summary>
    public Uri? RedirectTo { get; set; }

    /// <summary>When set, reads answer with a body of this many bytes.</summary>
    public int? OversizeBytes { get; set; }

    /// <summary>Writes a new version (KV v2) or overwrites (KV v1); returns the version number.</summary>
    public int Put(string path, IReadOnlyDictionary<string, string> data)
    {
        var versions = _secrets.GetOrAdd(path, _ => []);
        lock (versions)
        {
            var (mount, rest) = FindMount(path) ?? throw new InvalidOperationException($"no mount for {path}");
            if (_mounts[mount] == 1)
                versions.Clear();
            versions.Add(new KvVersion(new Dictionary<string, string>(data), _time.GetUtcNow()));
            if (_mounts[mount] == 2)
                PublishWrite(mount, rest, versions.Count);
            return versions.Count;
        }
    }

    public void DeleteVersion(string path, int version) => _secrets[path][version - 1].Deleted = _time.GetUtcNow();

    public void DestroyVersion(string path, int version) => _secrets[path][version - 1].Destroyed = true;

    /// <summary>A Kubernetes auth mount with one role that accepts one service-account JWT (a later call replaces it, as a rotated token).</summary>
    public void AddKubernetesLogin(string mount, string role, string jwt, TimeSpan ttl) => _logins[mount] = new Login("role", role, "jwt", jwt, ttl);

    /// <summary>An AppRole auth mount with one role, known by its role_id, that accepts one secret_id.</summary>
    public void AddAppRoleLogin(string mount, string roleId, string secretId, TimeSpan ttl) => _logins[mount] = new Login("role_id", roleId, "secret_id", secretId, ttl);

    public string IssueToken(TimeSpan ttl, bool renewable = true)
    {
        var token = $"hvs.fake-{Interlocked.Increment(ref _issued)}";
        _tokens[token] = new Token(_time.GetUtcNow() + ttl, renewable, ttl);
        return token;
    }

    /// <summary>Revokes every token but the root token, as a Vault restart with short TTLs or an operator would.</summary>
    public void RevokeAll() => RevokeAllExcept(null);

    public void RevokeAllExcept(string? keep)
    {
        foreach (var token in _tokens.Keys.Where(t => t != RootToken && t != keep))
            _tokens.TryRemove(token, out _);
    }

    /// <summary>The next <paramref name="count"/> requests get 429 with <c>Retry-After</c>.</summary>
    public void Throttle(int count, int retryAfterSeconds = 0)
    {
        _retryAfterSeconds = retryAfterSeconds;
        Interlocked.Exchange(ref _throttle, count);
    }

    public int Count(string prefix) => _requests.Count(r => r.StartsWith(prefix, StringComparison.Ordinal));

    public ValueTask DisposeAsync() => _server?.DisposeAsync() ?? ValueTask.CompletedTask;

    private async Task HandleAsync(HttpContext context)
    {
        var path = (string)context.Request.RouteValues["path"]!;
        _requests.Enqueue($"{context.Request.Method} {path}{context.Request.QueryString}");
        OnRequest?.Invoke(path);
        if (Hold is { } hold)
            await hold(path);
        if (Delay > TimeSpan.Zero)
            await Task.Delay(Delay, context.RequestAborted);
        if (Interlocked.Decrement(ref _throttle) >= 0)
        {
            context.Response.Headers.RetryAfter = _retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            await Error(context, 429, "request path \"" + path + "\": rate limit quota exceeded");
            return;
        }
        if (Sealed)
        {
            await Error(context, 503, "Vault is sealed");
            return;
        }
        if (RedirectTo is { } target)
        {
            context.Response.StatusCode = 307;
            context.Response.Headers.Location = new Uri(target, "/v1/" + path).ToString();
            return;
        }
        if (RequiredNamespace is not null && context.Request.Headers["X-Vault-Namespace"] != RequiredNamespace)
        {
            await Error(context, 403, "permission denied");
            return;
        }

        if (context.Request.Method == "POST" && path.StartsWith("auth/", StringComparison.Ordinal) && path.EndsWith("/login", StringComparison.Ordinal) && path != "auth/token/login")
        {
            await LoginAsync(context, path["auth/".Length..^"/login".Length]);
            return;
        }
        var token = context.Request.Headers["X-Vault-Token"].ToString();
        if (!_tokens.TryGetValue(token, out var lease) || lease.ExpiresAt <= _time.GetUtcNow())
        {
            await Error(context, 403, "permission denied");
            return;
        }
        if (context.Request.Method == "GET" && Acl(lease, path) is { } denied)
        {
            await Error(context, 403, denied);
            return;
        }
        if (context.Request.Method == "GET" && path.StartsWith(SubscribePrefix, StringComparison.Ordinal))
        {
            await SubscribeAsync(context, path);
            return;
        }
        switch (context.Request.Method, path)
        {
            case ("POST", "auth/token/renew-self"):
                await RenewAsync(context, token, lease);
                return;
            case ("GET", "auth/token/lookup-self"):
                var ttl = lease.ExpiresAt is { } expires ? (long)(expires - _time.GetUtcNow()).TotalSeconds : 0;
                await Json(context, 200, new JsonObject { ["data"] = new JsonObject { ["id"] = token, ["ttl"] = ttl, ["renewable"] = lease.Renewable } });
                return;
            case ("GET", _) when path.StartsWith("sys/internal/ui/mounts/", StringComparison.Ordinal):
                await MountInfoAsync(context, path["sys/internal/ui/mounts/".Length..]);
                return;
            case ("GET", _) when IsDatabaseCreds(path):
                await CredsAsync(context, path);
                return;
            case ("PUT" or "POST", "sys/leases/renew" or "sys/leases/revoke"):
                await LeaseCallAsync(context, path, lease);
                return;
            case ("GET", _) when _engines.Keys.FirstOrDefault(m => path.StartsWith(m + "/", StringComparison.Ordinal)) is not null:
                await Json(context, 200, new JsonObject { ["data"] = new JsonObject { ["username"] = "v-minted-" + Guid.NewGuid().ToString("N")[..8], ["password"] = "minted-password" }, ["lease_duration"] = 3600 });
                return;
            case ("GET", _) when _denied.Any(d => path.StartsWith(d, StringComparison.Ordinal)):
                await Error(context, 403, "1 error occurred:\n\t* permission denied\n\n");
                return;
            case ("GET", _) when OversizeBytes is { } size:
                await Json(context, 200, new JsonObject { ["data"] = new JsonObject { ["data"] = new JsonObject { ["blob"] = new string('x', size) } } });
                return;
            case ("GET", _):
                await ReadAsync(context, path);
                return;
            default:
                await Error(context, 405, "unsupported operation");
                return;
        }
    }

    private async Task LoginAsync(HttpContext context, string mount)
    {
        if (await KubernetesLoginAsync(context, mount))
            return;
        var body = await context.Request.ReadFromJsonAsync<JsonObject>();
        if (!_logins.TryGetValue(mount, out var login))
        {
            await Error(context, 404, $"no handler for route \"auth/{mount}/login\". route entry not found.");
            return;
        }
        var role = body?[login.RoleField]?.GetValue<string>();
        var presented = body?[login.CredentialField]?.GetValue<string>();
        var (status, error) = login.RoleField switch
        {
            // vault-plugin-auth-kubernetes path_login.go: both fields required, the role looked up, then the JWT reviewed.
            "role" when string.IsNullOrEmpty(role) => (400, "missing role"),
            "role" when string.IsNullOrEmpty(presented) => (400, "missing jwt"),
            "role" when role != login.Role => (400, $"invalid role name \"{role}\""),
            "role" when presented != login.Credential => (403, "permission denied"),
            // vault builtin/credential/approle path_login.go: role_id required; an unknown one and a wrong secret_id read alike.
            _ when string.IsNullOrEmpty(role) => (400, "missing role_id"),
            _ when role != login.Role => (400, "invalid role or secret ID"),
            _ when string.IsNullOrEmpty(presented) => (400, "missing secret_id"),
            _ when presented != login.Credential => (400, "invalid role or secret ID"),
            _ => (200, null),
        };
        if (error is not null)
        {
            await Error(context, status, error);
            return;
        }
        var token = IssueToken(login.Ttl);
        await Json(context, 200, Auth(token, login.Ttl, true));
    }

    private async Task RenewAsync(HttpContext context, string token, Token lease)
    {
        if (!lease.Renewable)
        {
            await Error(context, 400, "lease is not renewable");
            return;
        }
        _tokens[token] = lease with { ExpiresAt = _time.GetUtcNow() + lease.Ttl };
        await Json(context, 200, Auth(token, lease.Ttl, true));
    }

    private async Task MountInfoAsync(HttpContext context, string path)
    {
        if (_engines.FirstOrDefault(e => path.StartsWith(e.Key + "/", StringComparison.Ordinal)) is { Key: not null } engine)
        {
            await Json(context, 200, new JsonObject { ["data"] = new JsonObject { ["path"] = engine.Key + "/", ["type"] = engine.Value, ["options"] = null } });
            return;
        }
        if (path.StartsWith("auth/token/", StringComparison.Ordinal))
        {
            await Json(context, 200, new JsonObject { ["data"] = new JsonObject { ["path"] = "token/", ["type"] = "token", ["options"] = null } });
            return;
        }
        if (FindMount(path) is not var (mount, _))
        {
            await Error(context, 403, $"preflight capability check returned 403, please ensure client's policies grant access to path \"{path.Split('/')[0]}/\"");
            return;
        }
        var options = _mounts[mount] == 2 ? new JsonObject { ["version"] = "2" } : null;
        await Json(context, 200, new JsonObject { ["data"] = new JsonObject { ["path"] = mount + "/", ["type"] = "kv", ["options"] = options } });
    }

    private async Task ReadAsync(HttpContext context, string path)
    {
        if (FindMount(path) is not var (mount, rest))
        {
            await Error(context, 404, "no handler for route \"" + path + "\"");
            return;
        }
        if (_mounts[mount] == 1)
        {
            if (!_secrets.TryGetValue(path, out var v1) || v1.Count == 0)
            {
                await Error(context, 404);
                return;
            }
            await Json(context, 200, new JsonObject { ["data"] = Data(v1[^1].Data), ["lease_duration"] = 2764800 });
            return;
        }
        if (!rest.StartsWith("data/", StringComparison.Ordinal))
        {
            await Error(context, 404);
            return;
        }
        var key = $"{mount}/{rest["data/".Length..]}";
        if (!_secrets.TryGetValue(key, out var versions) || versions.Count == 0)
        {
            await Error(context, 404);
            return;
        }
        var number = context.Request.Query.TryGetValue("version", out var v) ? int.Parse(v!, CultureInfo.InvariantCulture) : versions.Count;
        if (number < 1 || number > versions.Count)
        {
            await Error(context, 404);
            return;
        }
        var version = versions[number - 1];
        var metadata = new JsonObject
        {
            ["created_time"] = version.Created.ToString("O", CultureInfo.InvariantCulture),
            ["custom_metadata"] = null,
            ["deletion_time"] = version.Deleted?.ToString("O", CultureInfo.InvariantCulture) ?? "",
            ["destroyed"] = version.Destroyed,
            ["version"] = number,
        };
        var gone = version.Deleted is not null || version.Destroyed;
        await Json(context, gone ? 404 : 200, new JsonObject { ["data"] = new JsonObject { ["data"] = gone ? null : Data(version.Data), ["metadata"] = metadata } });
    }

    private (string Mount, string Remainder)? FindMount(string path)
    {
        var mount = _mounts.Keys.Where(m => path.StartsWith(m + "/", StringComparison.Ordinal)).MaxBy(m => m.Length);
        return mount is null ? null : (mount, path[(mount.Length + 1)..]);
    }

    private static JsonObject Data(Dictionary<string, string> data) => new(data.Select(d => KeyValuePair.Create(d.Key, (JsonNode?)d.Value)));

    private static JsonObject Auth(string token, TimeSpan ttl, bool renewable) => new()
    {
        ["auth"] = new JsonObject
        {
            ["client_token"] = token,
            ["accessor"] = "accessor-" + token,
            ["policies"] = new JsonArray("default", "config-injector"),
            ["lease_duration"] = (long)ttl.TotalSeconds,
            ["renewable"] = renewable,
        },
    };

    private static Task Error(HttpContext context, int status, params string[] errors) =>
        Json(context, status, new JsonObject { ["errors"] = new JsonArray([.. errors.Select(e => (JsonNode?)e)]) });

    private static async Task Json(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString());
    }
}
