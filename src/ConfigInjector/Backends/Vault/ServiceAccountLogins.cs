using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using ConfigInjector.Backends.PodIdentity;
using ConfigInjector.Core.Policies;

namespace ConfigInjector.Backends.Vault;

/// <summary>
/// One Vault login per service account of one backend (<c>identity: pod</c>): each holds its own token, renewed or
/// replaced before it ends as <see cref="LoginAuth"/> does, and logs in one caller at a time, so however many pods and
/// Secrets of one service account read at once, it costs one TokenRequest and one login per token lifetime.
/// </summary>
internal sealed class ServiceAccountLogins(PodKubernetesAuthSettings settings, IServiceAccounts accounts, VaultTransport transport, TimeProvider time)
{
    /// <summary>Past this many service accounts, those whose token has ended are forgotten (they log in again when next used).</summary>
    private const int Capacity = 10_000;

    private readonly ConcurrentDictionary<Subject, Lazy<ServiceAccountLogin>> _logins = new();

    public ServiceAccountLogin For(Subject serviceAccount)
    {
        if (_logins.Count >= Capacity)
        {
            foreach (var idle in _logins.Where(l => l.Value.IsValueCreated && !l.Value.Value.Holds).ToList())
                _logins.TryRemove(idle);
        }
        return _logins.GetOrAdd(serviceAccount, sa => new Lazy<ServiceAccountLogin>(() => new ServiceAccountLogin(sa, settings, accounts, transport, time))).Value;
    }

    /// <summary>Logins made so far, over every service account (the benchmark's figure).</summary>
    public int Logins => _logins.Values.Where(l => l.IsValueCreated).Sum(l => l.Value.Logins);
}

/// <summary>
/// The Vault token of one service account: its role from the service account's annotation or the backend's settings.
/// The annotation is read at each login and again once it is <see cref="RoleFreshFor"/> old (one GET, shared by
/// whoever reads meanwhile): a role changed since drops the token, so the next read logs in as the new role instead of
/// renewing the old one for as long as Vault lets it.
/// </summary>
// A forgotten login is not disposed: a read may still hold it. Its semaphore has no wait handle, so nothing leaks.
#pragma warning disable CA1001
internal sealed class ServiceAccountLogin : IVaultAuth
#pragma warning restore CA1001
{
    /// <summary>How long a read waits for the role to be read again before going on with the token held.</summary>
    private static readonly TimeSpan RecheckWait = TimeSpan.FromSeconds(2);

    /// <summary>How long the API server has to answer that read (it goes on in the background after <see cref="RecheckWait"/>).</summary>
    private static readonly TimeSpan RecheckTimeout = TimeSpan.FromSeconds(30);

    private readonly Subject _serviceAccount;
    private readonly PodKubernetesAuthSettings _settings;
    private readonly IServiceAccounts _accounts;
    private readonly LoginAuth _login;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private Task? _recheck;
    private string? _loggingInAs;
    private long _roleReadAtTicks;

    public ServiceAccountLogin(Subject serviceAccount, PodKubernetesAuthSettings settings, IServiceAccounts accounts, VaultTransport transport, TimeProvider time)
    {
        _serviceAccount = serviceAccount;
        _settings = settings;
        _accounts = accounts;
        _time = time;
        _login = new LoginAuth("kubernetes", settings.Mount, BodyAsync, transport, time, Refused, LoggedIn);
    }

    /// <summary>How long the role read from the annotation is taken as read (then a role changed since applies).</summary>
    public static readonly TimeSpan RoleFreshFor = ServiceAccountAnnotations.FreshFor;

    /// <summary>The role of the token held (for messages and to tell a changed role); null before the first login.</summary>
    public string? Role { get; private set; }

    public string Who => Naming(Role);

    public bool Holds => _login.Holds;

    public int Logins => _login.Logins;

    public async ValueTask<string> TokenAsync(CancellationToken cancellationToken)
    {
        if (Role is not null && RoleIsStale && _login.Holds)
        {
            try
            {
                await Recheck().WaitAsync(RecheckWait, _time, cancellationToken);
            }
            catch (TimeoutException)
            {
                // The API server is slow to answer: the token held serves meanwhile; the read finishes on its own.
            }
        }
        return await _login.TokenAsync(cancellationToken);
    }

    public bool Invalidate(string token) => _login.Invalidate(token);

    private bool RoleIsStale => _time.GetUtcNow().UtcTicks - Volatile.Read(ref _roleReadAtTicks) >= RoleFreshFor.Ticks;

    private void RoleReadNow() => Volatile.Write(ref _roleReadAtTicks, _time.GetUtcNow().UtcTicks);

    private string Naming(string? role) => $"service account {_serviceAccount.Namespace}/{_serviceAccount.ServiceAccount}{(role is null ? "" : $" (Vault role {role})")}";

    private Task Recheck()
    {
        lock (_gate)
            return _recheck is { IsCompleted: false } running ? running : _recheck = RecheckRoleAsync();
    }

    // Shared by every read waiting on it, so none of their cancellations may end it; it never fails.
    private async Task RecheckRoleAsync()
    {
        await Task.Yield();
        string role;
        try
        {
            using var bounded = new CancellationTokenSource(RecheckTimeout, _time);
            role = _settings.RoleFor(_serviceAccount, await _accounts.AnnotationsAsync(_serviceAccount, bounded.Token));
        }
        catch (Exception)
        {
            // Out of reach or too slow: the role named a minute ago stays. Gone: the token stays too, so the leases it
            // issued can still be renewed or revoked; its next login says the service account does not exist.
            RoleReadNow();
            return;
        }
        RoleReadNow();
        if (role != Role)
            await _login.DropIfAsync(() => role != Role);
    }

    private async ValueTask<JsonObject> BodyAsync(CancellationToken cancellationToken)
    {
        var role = _settings.RoleFor(_serviceAccount, await _accounts.AnnotationsAsync(_serviceAccount, cancellationToken));
        _loggingInAs = role;
        var token = await _accounts.RequestTokenAsync(_serviceAccount, _settings.Audience, cancellationToken);
        return new JsonObject { ["role"] = role, ["jwt"] = token.Token };
    }

    // Only a login that succeeded changes the role of the token held: a failed one leaves the old token, and its role.
    private void LoggedIn()
    {
        Role = _loggingInAs;
        RoleReadNow();
    }

    private VaultLoginRefusedException Refused(VaultResponse response) =>
        new($"vault refused {Naming(_loggingInAs)} at auth/{_settings.Mount}/login: {response.Summary}");
}

/// <summary>Vault would not log the service account in (unknown role, not bound to it, wrong audience): its answer, not an outage.</summary>
internal sealed class VaultLoginRefusedException(string message) : Exception(message);
