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
/// The annotation is read at each login and again once it is <see cref="RoleFreshFor"/> old (one GET, whoever reads
/// meanwhile waits for it): a role changed since drops the token, so the next read logs in as the new role instead of
/// renewing the old one for as long as Vault lets it.
/// </summary>
// A forgotten login is not disposed: a read may still hold it. Its semaphore has no wait handle, so nothing leaks.
#pragma warning disable CA1001
internal sealed class ServiceAccountLogin : IVaultAuth
#pragma warning restore CA1001
{
    private readonly Subject _serviceAccount;
    private readonly PodKubernetesAuthSettings _settings;
    private readonly IServiceAccounts _accounts;
    private readonly LoginAuth _login;
    private readonly TimeProvider _time;
    private long _roleReadAtTicks;

    public ServiceAccountLogin(Subject serviceAccount, PodKubernetesAuthSettings settings, IServiceAccounts accounts, VaultTransport transport, TimeProvider time)
    {
        _serviceAccount = serviceAccount;
        _settings = settings;
        _accounts = accounts;
        _time = time;
        _login = new LoginAuth("kubernetes", settings.Mount, BodyAsync, transport, time, Refused);
    }

    /// <summary>How long the role read from the annotation is taken as read (then a role changed since applies).</summary>
    public static readonly TimeSpan RoleFreshFor = ServiceAccountAnnotations.FreshFor;

    /// <summary>The role of the latest login (for messages); null before the first.</summary>
    public string? Role { get; private set; }

    public string Who => $"service account {_serviceAccount.Namespace}/{_serviceAccount.ServiceAccount}{(Role is null ? "" : $" (Vault role {Role})")}";

    public bool Holds => _login.Holds;

    public int Logins => _login.Logins;

    public async ValueTask<string> TokenAsync(CancellationToken cancellationToken)
    {
        if (Role is not null && RoleIsStale)
            await _login.DropIfAsync(RoleChangedAsync, cancellationToken);
        return await _login.TokenAsync(cancellationToken);
    }

    public bool Invalidate(string token) => _login.Invalidate(token);

    private bool RoleIsStale => _time.GetUtcNow().UtcTicks - Volatile.Read(ref _roleReadAtTicks) >= RoleFreshFor.Ticks;

    private void RoleReadNow() => Volatile.Write(ref _roleReadAtTicks, _time.GetUtcNow().UtcTicks);

    // Runs under the login's lock, so a login in progress (which reads the role itself) is never undone by it.
    private async ValueTask<bool> RoleChangedAsync(CancellationToken cancellationToken)
    {
        if (!RoleIsStale)
            return false;
        IReadOnlyDictionary<string, string> annotations;
        try
        {
            annotations = await _accounts.AnnotationsAsync(_serviceAccount, cancellationToken);
        }
        catch (ServiceAccountUnavailableException)
        {
            // The API server out of reach is no reason to stop reading as the role it named a minute ago.
            RoleReadNow();
            return false;
        }
        catch (ServiceAccountMissingException)
        {
            // Gone: its token must not outlive it; the next login says so.
            return true;
        }
        RoleReadNow();
        return _settings.RoleFor(_serviceAccount, annotations) != Role;
    }

    private async ValueTask<JsonObject> BodyAsync(CancellationToken cancellationToken)
    {
        Role = _settings.RoleFor(_serviceAccount, await _accounts.AnnotationsAsync(_serviceAccount, cancellationToken));
        RoleReadNow();
        var token = await _accounts.RequestTokenAsync(_serviceAccount, _settings.Audience, cancellationToken);
        return new JsonObject { ["role"] = Role, ["jwt"] = token.Token };
    }

    private VaultLoginRefusedException Refused(VaultResponse response) =>
        new($"vault refused {Who} at auth/{_settings.Mount}/login: {response.Summary}");
}

/// <summary>Vault would not log the service account in (unknown role, not bound to it, wrong audience): its answer, not an outage.</summary>
internal sealed class VaultLoginRefusedException(string message) : Exception(message);
