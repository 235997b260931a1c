using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace ConfigInjector.TestSupport.Fakes;

/// <summary>
/// Vault's database secrets engine and lease API, as strict as their documentation:
/// - GET /v1/:mount/creds/:role — https://developer.hashicorp.com/vault/api-docs/secret/databases#generate-credentials:
///   a new username and password on every call, with <c>lease_id</c> (<c>:mount/creds/:role/:uuid</c>),
///   <c>lease_duration</c> (the role's default TTL) and <c>renewable</c>; 400 "unknown role" for a role not written.
/// - PUT /v1/sys/leases/renew {lease_id, increment} — https://developer.hashicorp.com/vault/api-docs/system/leases#renew-lease:
///   the new TTL counts from now, is the increment (the role's default when 0) and never reaches past the lease's
///   issue time plus the role's max TTL; a lease that expired, was revoked or never existed answers 400 "lease not found
///   or lease is not renewable" (missing lease_id: 400 "lease_id must be specified").
/// - PUT /v1/sys/leases/revoke {lease_id} — https://developer.hashicorp.com/vault/api-docs/system/leases#revoke-lease:
///   204, also for a lease Vault no longer has; the credentials stop working at once.
/// Leases end on the fake clock; the mount lookup reports the mount with type <c>database</c>. Vault's default
/// policy lets every token renew (<c>sys/leases/renew</c>), not revoke: a Kubernetes role's token may revoke only when
/// its policy grants <c>sys/leases/revoke</c>.
/// </summary>
public sealed partial class VaultFake
{
    private sealed record DatabaseRole(TimeSpan DefaultTtl, TimeSpan MaxTtl);

    private sealed class DatabaseLease(string mount, string role, string username, string password, DateTimeOffset issued, DateTimeOffset expires)
    {
        public string Mount { get; } = mount;
        public string Role { get; } = role;
        public string Username { get; } = username;
        public string Password { get; } = password;
        public DateTimeOffset Issued { get; } = issued;
        public DateTimeOffset Expires { get; set; } = expires;
        public bool Revoked { get; set; }
    }

    private readonly ConcurrentDictionary<(string Mount, string Role), DatabaseRole> _databaseRoles = new();
    private readonly ConcurrentDictionary<string, DatabaseLease> _leases = new(StringComparer.Ordinal);
    private int _credentialsIssued;
    private int _leasesRenewed;
    private int _leasesRevoked;

    /// <summary><c>vault secrets enable -path=&lt;mount&gt; database</c> and a role with its default and max TTL.</summary>
    public void AddDatabaseRole(string mount, string role, TimeSpan defaultTtl, TimeSpan maxTtl)
    {
        _engines[mount] = "database";
        _databaseRoles[(mount, role)] = new DatabaseRole(defaultTtl, maxTtl);
    }

    public int CredentialsIssued => _credentialsIssued;
    public int LeasesRenewed => _leasesRenewed;
    public int LeasesRevoked => _leasesRevoked;

    /// <summary>Leases neither revoked nor expired on the fake clock.</summary>
    public int LiveLeases => _leases.Values.Count(l => Live(l));

    /// <summary>Every lease id issued: no log, Event, annotation or pod spec may hold one.</summary>
    public IReadOnlyCollection<string> LeaseIds => [.. _leases.Keys];

    /// <summary>Every username and password issued.</summary>
    public IReadOnlyCollection<string> IssuedCredentials => [.. _leases.Values.SelectMany(l => new[] { l.Username, l.Password })];

    /// <summary>Whether the database would accept this login now: its lease is live.</summary>
    public bool CanLogIn(string username, string password) =>
        _leases.Values.Any(l => l.Username == username && l.Password == password && Live(l));

    /// <summary>When a lease ends (null for one never issued), and whether it was revoked.</summary>
    /// <summary>Ends a lease as its TTL running out does when nobody renews it: its credential stops working.</summary>
    public void EndLease(string leaseId) => _leases[leaseId].Expires = _time.GetUtcNow();

    public (DateTimeOffset Expires, bool Revoked)? LeaseState(string leaseId) =>
        _leases.TryGetValue(leaseId, out var lease) ? (lease.Expires, lease.Revoked) : null;

    private bool Live(DatabaseLease lease) => !lease.Revoked && lease.Expires > _time.GetUtcNow();

    private bool IsDatabaseCreds(string path) =>
        path.Split('/') is [var mount, "creds", _] && _engines.TryGetValue(mount, out var type) && type == "database";

    private async Task CredsAsync(HttpContext context, string path)
    {
        var parts = path.Split('/');
        if (!_databaseRoles.TryGetValue((parts[0], parts[2]), out var role))
        {
            await Error(context, 400, "unknown role: " + parts[2]);
            return;
        }
        var now = _time.GetUtcNow();
        var id = $"{path}/{Guid.NewGuid()}";
        var lease = new DatabaseLease(parts[0], parts[2], $"v-token-{parts[2]}-{Guid.NewGuid().ToString("N")[..12]}", "A1a-" + Guid.NewGuid().ToString("N"), now, now + role.DefaultTtl);
        _leases[id] = lease;
        Interlocked.Increment(ref _credentialsIssued);
        await Json(context, 200, new JsonObject
        {
            ["request_id"] = Guid.NewGuid().ToString(),
            ["lease_id"] = id,
            ["renewable"] = true,
            ["lease_duration"] = (long)role.DefaultTtl.TotalSeconds,
            ["data"] = new JsonObject { ["username"] = lease.Username, ["password"] = lease.Password },
            ["wrap_info"] = null,
            ["warnings"] = null,
            ["auth"] = null,
        });
    }

    private async Task LeaseCallAsync(HttpContext context, string path, Token token)
    {
        var body = await context.Request.ReadFromJsonAsync<JsonObject>();
        var id = body?["lease_id"]?.GetValue<string>();
        if (string.IsNullOrEmpty(id))
        {
            await Error(context, 400, "lease_id must be specified");
            return;
        }
        if (path == "sys/leases/revoke")
        {
            if (token.Readable is not null && !token.Readable.Contains("sys/leases/revoke"))
            {
                await Error(context, 403, "1 error occurred:\n\t* permission denied\n\n");
                return;
            }
            if (_leases.TryGetValue(id, out var revoked) && !revoked.Revoked)
            {
                revoked.Revoked = true;
                Interlocked.Increment(ref _leasesRevoked);
            }
            context.Response.StatusCode = 204;
            return;
        }
        if (!_leases.TryGetValue(id, out var lease) || !Live(lease))
        {
            await Error(context, 400, "lease not found or lease is not renewable");
            return;
        }
        var role = _databaseRoles[(lease.Mount, lease.Role)];
        var now = _time.GetUtcNow();
        var increment = body?["increment"]?.GetValue<long>() is > 0 and var seconds ? TimeSpan.FromSeconds(seconds) : role.DefaultTtl;
        var end = now + increment;
        var max = lease.Issued + role.MaxTtl;
        lease.Expires = end < max ? end : max;
        Interlocked.Increment(ref _leasesRenewed);
        await Json(context, 200, new JsonObject
        {
            ["lease_id"] = id,
            ["renewable"] = true,
            ["lease_duration"] = (long)(lease.Expires - now).TotalSeconds,
        });
    }
}
