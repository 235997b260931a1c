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

/// <summary>The Vault token of one service account: its role from the service account's annotation or the backend's settings.</summary>
// A forgotten login is not disposed: a read may still hold it. Its semaphore has no wait handle, so nothing leaks.
#pragma warning disable CA1001
internal sealed class ServiceAccountLogin : IVaultAuth
#pragma warning restore CA1001
{
    private readonly Subject _serviceAccount;
    private readonly PodKubernetesAuthSettings _settings;
    private readonly IServiceAccounts _accounts;
    private readonly LoginAuth _login;

    public ServiceAccountLogin(Subject serviceAccount, PodKubernetesAuthSettings settings, IServiceAccounts accounts, VaultTransport transport, TimeProvider time)
    {
        _serviceAccount = serviceAccount;
        _settings = settings;
        _accounts = accounts;
        _login = new LoginAuth("kubernetes", settings.Mount, BodyAsync, transport, time, Refused);
    }

    /// <summary>The role of the latest login (for messages); null before the first.</summary>
    public string? Role { get; private set; }

    public string Who => $"service account {_serviceAccount.Namespace}/{_serviceAccount.ServiceAccount}{(Role is null ? "" : $" (Vault role {Role})")}";

    public bool Holds => _login.Holds;

    public int Logins => _login.Logins;

    public ValueTask<string> TokenAsync(CancellationToken cancellationToken) => _login.TokenAsync(cancellationToken);

    public bool Invalidate(string token) => _login.Invalidate(token);

    // The annotation is read at every login, so a changed role applies from the next token on.
    private async ValueTask<JsonObject> BodyAsync(CancellationToken cancellationToken)
    {
        Role = _settings.RoleFor(_serviceAccount, await _accounts.AnnotationsAsync(_serviceAccount, cancellationToken));
        var token = await _accounts.RequestTokenAsync(_serviceAccount, _settings.Audience, cancellationToken);
        return new JsonObject { ["role"] = Role, ["jwt"] = token.Token };
    }

    private VaultLoginRefusedException Refused(VaultResponse response) =>
        new($"vault refused {Who} at auth/{_settings.Mount}/login: {response.Summary}");
}

/// <summary>Vault would not log the service account in (unknown role, not bound to it, wrong audience): its answer, not an outage.</summary>
internal sealed class VaultLoginRefusedException(string message) : Exception(message);
