using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;

namespace ConfigInjector.TestSupport.Fakes;

/// <summary>
/// Vault's event notifications (Enterprise): <c>GET /v1/sys/events/subscribe/:eventType?json=true</c> upgraded to a
/// WebSocket (https://developer.hashicorp.com/vault/api-docs/system/events#subscribe-to-event-notifications), one
/// JSON CloudEvent per message in the documented format (https://developer.hashicorp.com/vault/docs/concepts/events#event-format):
/// <c>data.event.metadata.path</c> is the API path written (<c>secret/data/shop/db</c>). A <c>kv-v2/data-write</c> is
/// sent on each KV v2 <see cref="Put"/>. Strict as Vault: the token is checked like any request (403 without), and
/// only a WebSocket request with <c>json=true</c> for a <c>kv-v2/…</c> event type is accepted (the fake speaks no protobuf).
/// </summary>
public sealed partial class VaultFake
{
    private const string SubscribePrefix = "sys/events/subscribe/";
    private readonly ConcurrentDictionary<Channel<string>, byte> _subscribers = new();
    private int _subscriptions;

    /// <summary>Every event subscription accepted so far, reconnects included.</summary>
    public int EventSubscriptions => Volatile.Read(ref _subscriptions);

    /// <summary>Closes every event stream from the server's side, as a Vault restart or a load balancer's idle timeout would.</summary>
    public void DropEventStreams()
    {
        foreach (var channel in _subscribers.Keys)
            channel.Writer.TryComplete();
    }

    private void PublishWrite(string mount, string rest, int version)
    {
        var dataPath = $"{mount}/data/{rest}";
        var message = new JsonObject
        {
            ["id"] = Guid.NewGuid().ToString(),
            ["source"] = "https://vaultproject.io/",
            ["specversion"] = "1.0",
            ["type"] = "*",
            ["data"] = new JsonObject
            {
                ["event"] = new JsonObject
                {
                    ["id"] = Guid.NewGuid().ToString(),
                    ["metadata"] = new JsonObject
                    {
                        ["current_version"] = version.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        ["data_path"] = dataPath,
                        ["modified"] = "true",
                        ["oldest_version"] = "0",
                        ["operation"] = "data-write",
                        ["path"] = dataPath,
                    },
                },
                ["event_type"] = "kv-v2/data-write",
                ["plugin_info"] = new JsonObject { ["mount_class"] = "secret", ["mount_accessor"] = "kv_5dc4d18e", ["mount_path"] = mount + "/", ["plugin"] = "kv" },
            },
            ["datacontentype"] = "application/cloudevent",
            ["time"] = _time.GetUtcNow().ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        }.ToJsonString();
        foreach (var channel in _subscribers.Keys)
            channel.Writer.TryWrite(message);
    }

    private async Task SubscribeAsync(HttpContext context, string path)
    {
        var eventType = path[SubscribePrefix.Length..];
        if (!context.WebSockets.IsWebSocketRequest || context.Request.Query["json"] != "true" || !eventType.StartsWith("kv-v2/", StringComparison.Ordinal))
        {
            await Error(context, 400, "the fake serves only WebSocket subscriptions to kv-v2/ event types with json=true");
            return;
        }
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var channel = Channel.CreateUnbounded<string>();
        _subscribers[channel] = 0;
        Interlocked.Increment(ref _subscriptions);
        try
        {
            await foreach (var message in channel.Reader.ReadAllAsync(context.RequestAborted))
                await socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, true, context.RequestAborted);
            await socket.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, "going away", CancellationToken.None);
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException)
        {
            // The subscriber went away.
        }
        finally
        {
            _subscribers.TryRemove(channel, out _);
        }
    }
}
