using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text.Json;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;
using ConfigInjector.Tls;

namespace ConfigInjector.Backends.Vault;

/// <summary>
/// A Vault backend with <c>events: true</c>: reads as <see cref="VaultBackend"/>, and follows Vault's event notifications
/// (Vault Enterprise 1.16+, https://developer.hashicorp.com/vault/docs/concepts/events): a WebSocket to
/// <c>sys/events/subscribe/kv-v2/data-*?json=true</c> (https://developer.hashicorp.com/vault/api-docs/system/events#subscribe-to-event-notifications)
/// with the backend's token and namespace. Each message is a JSON CloudEvent whose <c>data.event.metadata.path</c> is the
/// API path written (<c>secret/data/shop/db</c>); without the KV v2 <c>data/</c> segment after the mount
/// (<c>data.plugin_info.mount_path</c>) it is the ref's path (<c>secret/shop/db</c>).
/// </summary>
internal sealed class VaultEventsBackend(VaultBackend reads, VaultSettings settings, IVaultAuth auth) : ISecretBackend, IChangeFeed, IIssuesLeases
{
    public const string EventTypes = "kv-v2/data-*";
    private const int MaxMessageBytes = 1024 * 1024;

    public string Name => reads.Name;

    public string Trigger => "vault-events";

    public ValueTask<SecretRead> ReadAsync(SecretLocation location, CancellationToken cancellationToken) => reads.ReadAsync(location, cancellationToken);

    public ValueTask<IssuedSecret> IssueAsync(SecretLocation location, Core.Policies.Subject? serviceAccount, CancellationToken cancellationToken) => reads.IssueAsync(location, serviceAccount, cancellationToken);

    public ValueTask<IssuingEngine?> EngineOfAsync(SecretLocation location, Core.Policies.Subject? serviceAccount, CancellationToken cancellationToken) => reads.EngineOfAsync(location, serviceAccount, cancellationToken);

    public ValueTask<LeaseAnswer> RenewAsync(Core.Secrets.Lease lease, Core.Policies.Subject? serviceAccount, CancellationToken cancellationToken) => reads.RenewAsync(lease, serviceAccount, cancellationToken);

    public ValueTask<LeaseAnswer> RevokeAsync(Core.Secrets.Lease lease, Core.Policies.Subject? serviceAccount, CancellationToken cancellationToken) => reads.RevokeAsync(lease, serviceAccount, cancellationToken);

    public async IAsyncEnumerable<string> ChangedPathsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var socket = new ClientWebSocket();
        var token = await auth.TokenAsync(cancellationToken);
        socket.Options.SetRequestHeader("X-Vault-Token", token);
        if (settings.Namespace is { } ns)
            socket.Options.SetRequestHeader("X-Vault-Namespace", ns);
        if (settings.CaFile is { } ca)
            socket.Options.RemoteCertificateValidationCallback = CustomCaTrust.Validator(CustomCaTrust.LoadBundle(ca));
        var scheme = settings.Address.Scheme == "https" ? "wss" : "ws";
        try
        {
            await socket.ConnectAsync(new Uri($"{scheme}://{settings.Address.Authority}/v1/sys/events/subscribe/{EventTypes}?json=true"), cancellationToken);
        }
        catch (WebSocketException) when (socket.HttpStatusCode == System.Net.HttpStatusCode.Forbidden)
        {
            // A token Vault no longer takes: the next subscription logs in again.
            auth.Invalidate(token);
            throw new InvalidOperationException($"Vault {settings.Address.Authority} refused the event subscription (403): the token's policy must allow read on sys/events/subscribe/{EventTypes}");
        }
        var buffer = new byte[16 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var received = await socket.ReceiveAsync(buffer, cancellationToken);
            if (received.MessageType == WebSocketMessageType.Close)
                yield break;
            message.Write(buffer, 0, received.Count);
            if (message.Length > MaxMessageBytes)
                throw new InvalidOperationException($"Vault sent an event message over {MaxMessageBytes} bytes");
            if (!received.EndOfMessage)
                continue;
            var path = RefPath(message.GetBuffer().AsMemory(0, (int)message.Length));
            message.SetLength(0);
            if (path is not null)
                yield return path;
        }
    }

    /// <summary>The ref path an event is about; null for a message that names none.</summary>
    internal static string? RefPath(ReadOnlyMemory<byte> json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var data = document.RootElement.GetProperty("data");
            var path = data.GetProperty("event").GetProperty("metadata").GetProperty("path").GetString();
            if (string.IsNullOrEmpty(path))
                return null;
            var mount = data.TryGetProperty("plugin_info", out var plugin) && plugin.TryGetProperty("mount_path", out var m) ? m.GetString() : null;
            if (mount is { Length: > 0 } && path.StartsWith(mount + "data/", StringComparison.Ordinal))
                return mount + path[(mount.Length + "data/".Length)..];
            var segment = path.IndexOf("/data/", StringComparison.Ordinal);
            return segment > 0 ? path[..segment] + path[(segment + "/data".Length)..] : path;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }
}
