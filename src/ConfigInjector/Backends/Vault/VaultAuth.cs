using System.Globalization;
using System.Text.Json.Nodes;

namespace ConfigInjector.Backends.Vault;

/// <summary>Supplies a Vault token, logging in, renewing or re-reading it as needed. Tokens are never logged.</summary>
internal interface IVaultAuth
{
    ValueTask<string> TokenAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Vault refused <paramref name="token"/> (403): drop it so the next call logs in again. True when a retry with
    /// the next <see cref="TokenAsync"/> may help, also when another caller has already replaced that token; false when
    /// it cannot.
    /// </summary>
    bool Invalidate(string token);
}

/// <summary>
/// When a token must be refreshed: renewed (or re-obtained) after two thirds of its lease, as Vault Agent does,
/// so a slow Vault never lets it lapse mid-admission.
/// </summary>
internal sealed record TokenLease(string Token, bool Renewable, DateTimeOffset RefreshAt, DateTimeOffset ExpiresAt)
{
    public override string ToString() => $"TokenLease(renewable {Renewable}, refresh at {RefreshAt:u})";

    public static TokenLease From(string token, bool renewable, TimeSpan lease, DateTimeOffset now) =>
        lease <= TimeSpan.Zero
            ? new TokenLease(token, false, DateTimeOffset.MaxValue, DateTimeOffset.MaxValue)
            : new TokenLease(token, renewable, now + lease * 2 / 3, now + lease);

    /// <summary>Reads the <c>auth</c> block of a login or renew-self answer.</summary>
    public static TokenLease? FromAuth(JsonNode? body, DateTimeOffset now)
    {
        var auth = body?["auth"];
        var token = auth?["client_token"]?.GetValue<string>();
        if (string.IsNullOrEmpty(token))
            return null;
        var lease = auth?["lease_duration"]?.GetValue<long>() ?? 0;
        return From(token, auth?["renewable"]?.GetValue<bool>() ?? false, TimeSpan.FromSeconds(lease), now);
    }
}

/// <summary>Kubernetes and AppRole auth: log in at <c>auth/&lt;mount&gt;/login</c>, renew with <c>renew-self</c>, log in again when renewal fails or the lease ends.</summary>
/// <param name="refused">
/// What a login Vault answers with 400 or 403 throws, when that is the vault's verdict on who logs in rather than an
/// outage (<c>identity: pod</c>); otherwise a <see cref="VaultUnavailableException"/>.
/// </param>
/// <param name="loggedIn">Called when a login has succeeded, before its token is used (what it was made from now holds).</param>
internal sealed class LoginAuth(string method, string mount, Func<CancellationToken, ValueTask<JsonObject>> loginBody, VaultTransport transport, TimeProvider time,
    Func<VaultResponse, Exception>? refused = null, Action? loggedIn = null) : IVaultAuth, IDisposable
{
    private readonly SemaphoreSlim _refresh = new(1, 1);

    public void Dispose() => _refresh.Dispose();
    private volatile TokenLease? _lease;
    private DateTimeOffset _obtainedAt;

    public int Logins { get; private set; }

    public int Renewals { get; private set; }

    /// <summary>Whether it holds a token that has not expired (an idle one may be dropped).</summary>
    public bool Holds => _lease is { } lease && time.GetUtcNow() < lease.ExpiresAt;

    public async ValueTask<string> TokenAsync(CancellationToken cancellationToken)
    {
        if (_lease is { } current && time.GetUtcNow() < current.RefreshAt)
            return current.Token;
        await _refresh.WaitAsync(cancellationToken);
        try
        {
            var now = time.GetUtcNow();
            if (_lease is { } lease && now < lease.RefreshAt)
                return lease.Token;
            if (_lease is { Renewable: true } renewable && now < renewable.ExpiresAt && await RenewAsync(renewable.Token, cancellationToken) is { } renewed)
            {
                _lease = renewed;
                _obtainedAt = now;
                return renewed.Token;
            }
            var fresh = await LoginAsync(cancellationToken);
            loggedIn?.Invoke();
            _lease = fresh;
            _obtainedAt = time.GetUtcNow();
            return fresh.Token;
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>
    /// Under the lock logins take, so never against a login in progress: when <paramref name="outdated"/> says the
    /// token held no longer fits (its login was made from settings that have changed since), it is dropped and the next
    /// <see cref="TokenAsync"/> logs in again. It is not revoked: credentials it issued are in use, and Vault revokes
    /// them with it. <paramref name="outdated"/> must not wait on anything (it runs holding the lock).
    /// </summary>
    public async ValueTask DropIfAsync(Func<bool> outdated)
    {
        await _refresh.WaitAsync();
        try
        {
            if (_lease is not null && outdated())
                _lease = null;
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>
    /// A 403 with a token obtained a minute ago is the Vault policy saying no, not an expired token: logging in
    /// again would only load Vault (and its TokenReview calls) on every read.
    /// </summary>
    /// <remarks>
    /// A token that ends while many reads are in flight is refused to each of them: the first drops it and the next
    /// <see cref="TokenAsync"/> logs in; the others find it replaced already and retry with the new one, so it is
    /// replaced once, not once per read (and a fresh replacement is never dropped for its predecessor's 403).
    /// </remarks>
    public bool Invalidate(string token)
    {
        var current = _lease;
        if (current is null || current.Token != token)
            return true;
        if (time.GetUtcNow() - _obtainedAt < TimeSpan.FromMinutes(1))
            return false;
        Interlocked.CompareExchange(ref _lease, null, current);
        return true;
    }

    private async Task<TokenLease?> RenewAsync(string token, CancellationToken cancellationToken)
    {
        var response = await transport.SendAsync(HttpMethod.Post, "auth/token/renew-self", token, new JsonObject(), cancellationToken);
        if (!response.Ok)
            return null;
        Renewals++;
        return TokenLease.FromAuth(response.Body, time.GetUtcNow());
    }

    private async Task<TokenLease> LoginAsync(CancellationToken cancellationToken)
    {
        using var span = BackendTracing.StartLogin(method, mount);
        var response = await transport.SendAsync(HttpMethod.Post, $"auth/{mount}/login", null, await loginBody(cancellationToken), cancellationToken);
        span?.SetTag(Observability.Tracing.Result, (int)response.Status);
        if (!response.Ok)
        {
            Observability.Tracing.Fail(span, response.Summary);
            throw refused is not null && response.Status is System.Net.HttpStatusCode.BadRequest or System.Net.HttpStatusCode.Forbidden
                ? refused(response)
                : new VaultUnavailableException($"{method} login at auth/{mount} failed: {response.Summary}");
        }
        Logins++;
        return TokenLease.FromAuth(response.Body, time.GetUtcNow())
            ?? throw new VaultUnavailableException($"{method} login at auth/{mount} returned no client_token");
    }
}

/// <summary>A token from a file, re-read when the file changes; renewed with <c>renew-self</c> when it is renewable.</summary>
internal sealed class TokenFileAuth(string file, VaultTransport transport, TimeProvider time) : IVaultAuth, IDisposable
{
    private readonly SemaphoreSlim _refresh = new(1, 1);

    public void Dispose() => _refresh.Dispose();
    private DateTime _fileStamp;
    private volatile TokenLease? _lease;

    public async ValueTask<string> TokenAsync(CancellationToken cancellationToken)
    {
        var stamp = File.GetLastWriteTimeUtc(file);
        if (_lease is { } current && stamp == _fileStamp && time.GetUtcNow() < current.RefreshAt)
            return current.Token;
        await _refresh.WaitAsync(cancellationToken);
        try
        {
            if (stamp != _fileStamp || _lease is null)
            {
                var token = (await ReadTokenAsync(cancellationToken)).Trim();
                _lease = await LookupAsync(token, cancellationToken);
                _fileStamp = stamp;
            }
            else if (_lease is { Renewable: true } renewable && time.GetUtcNow() >= renewable.RefreshAt)
            {
                var response = await transport.SendAsync(HttpMethod.Post, "auth/token/renew-self", renewable.Token, new JsonObject(), cancellationToken);
                _lease = response.Ok && TokenLease.FromAuth(response.Body, time.GetUtcNow()) is { } renewed
                    ? renewed
                    : renewable with { RefreshAt = DateTimeOffset.MaxValue };
            }
            return _lease!.Token;
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>A refused file token cannot be fixed by us; re-reading the file is all that can help.</summary>
    public bool Invalidate(string token)
    {
        _fileStamp = default;
        return false;
    }

    private async Task<string> ReadTokenAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await File.ReadAllTextAsync(file, cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new VaultUnavailableException($"cannot read the Vault token file {file}: {e.Message}");
        }
    }

    // lookup-self tells whether the token is renewable and for how long; a token without that permission just is not renewed.
    private async Task<TokenLease> LookupAsync(string token, CancellationToken cancellationToken)
    {
        var response = await transport.SendAsync(HttpMethod.Get, "auth/token/lookup-self", token, null, cancellationToken);
        var data = response.Ok ? response.Body?["data"] : null;
        var ttl = data?["ttl"]?.GetValue<long>() ?? 0;
        var renewable = data?["renewable"]?.GetValue<bool>() ?? false;
        return TokenLease.From(token, renewable, TimeSpan.FromSeconds(ttl), time.GetUtcNow());
    }
}

internal static class VaultAuthFactory
{
    public static IVaultAuth Create(VaultAuthSettings settings, VaultTransport transport, TimeProvider time) => settings switch
    {
        TokenAuthSettings token => new TokenFileAuth(token.File, transport, time),
        KubernetesAuthSettings k8s => new LoginAuth("kubernetes", k8s.Mount, _ => ValueTask.FromResult(new JsonObject
        {
            ["role"] = k8s.Role,
            // Re-read every login: the kubelet rotates projected service-account tokens.
            ["jwt"] = ReadFile(k8s.TokenFile, "service-account token"),
        }), transport, time),
        AppRoleAuthSettings approle => new LoginAuth("approle", approle.Mount, _ => ValueTask.FromResult(new JsonObject
        {
            ["role_id"] = approle.RoleId,
            ["secret_id"] = ReadFile(approle.SecretIdFile, "AppRole secret id"),
        }), transport, time),
        _ => throw new ArgumentOutOfRangeException(nameof(settings), settings.GetType().Name, "unknown Vault auth settings"),
    };

    private static string ReadFile(string file, string what)
    {
        try
        {
            return File.ReadAllText(file).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new VaultUnavailableException(string.Create(CultureInfo.InvariantCulture, $"cannot read the {what} file {file}: {e.Message}"));
        }
    }
}
