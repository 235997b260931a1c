using System.Text.Json;
using ConfigInjector.Core.Report;

namespace ConfigInjector.Core.Refresh;

/// <summary>
/// Reads a <c>POST /refresh</c> body, whichever of its forms it takes:
/// <list type="bullet">
/// <item><c>{"refs": ["vault-prod:secret/shop/db", …]}</c>, each a pattern as <c>report --ref</c> takes;</item>
/// <item>an Azure Event Grid delivery in the Event Grid schema, a JSON array of events
/// (https://learn.microsoft.com/azure/event-grid/event-schema): the subscription validation event, whose
/// <c>data.validationCode</c> is answered (https://learn.microsoft.com/azure/event-grid/webhook-event-delivery), and
/// Key Vault's <see cref="KeyVaultEvents.SecretNewVersionCreated"/>;</item>
/// <item>a CloudEvent in structured JSON mode, or a batch of them (https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/formats/json-format.md):
/// <c>specversion</c> 1.0 with <c>id</c>, <c>source</c> and <c>type</c>; Key Vault's event as Event Grid's CloudEvents
/// schema delivers it, or any type whose <c>data</c> is <c>{"refs": […]}</c>.</item>
/// </list>
/// Other event types are ignored and counted, so a subscription that sends more than we use is not retried forever.
/// </summary>
public static class RefreshRequestReader
{
    public const int MaxPatterns = 1000;

    /// <summary>Event Grid delivers at most 5,000 events per batch.</summary>
    public const int MaxEvents = 5000;

    public const string SubscriptionValidationEvent = "Microsoft.EventGrid.SubscriptionValidationEvent";

    private const string Expected = "expected {\"refs\": [...]}, an Event Grid array of events, or a CloudEvent (specversion 1.0)";

    public static Result<RefreshRequest> Read(ReadOnlyMemory<byte> body, IReadOnlyList<KeyVaultTarget> vaults)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException e)
        {
            return Result.Fail<RefreshRequest>($"the body is not JSON: {e.Message}");
        }
        using (document)
        {
            var root = document.RootElement;
            return root.ValueKind switch
            {
                JsonValueKind.Object when root.TryGetProperty("specversion", out _) => Events([root], RefreshForms.CloudEvents, vaults),
                JsonValueKind.Object => Refs(root),
                JsonValueKind.Array when root.GetArrayLength() == 0 => Result.Fail<RefreshRequest>("the body is an empty array; " + Expected),
                JsonValueKind.Array when root.GetArrayLength() > MaxEvents => Result.Fail<RefreshRequest>($"the body holds {root.GetArrayLength()} events; at most {MaxEvents} are taken at once"),
                JsonValueKind.Array when root[0] is { ValueKind: JsonValueKind.Object } first && first.TryGetProperty("specversion", out _) =>
                    Events([.. root.EnumerateArray()], RefreshForms.CloudEvents, vaults),
                JsonValueKind.Array => Events([.. root.EnumerateArray()], RefreshForms.EventGrid, vaults),
                _ => Result.Fail<RefreshRequest>($"the body is a JSON {root.ValueKind.ToString().ToLowerInvariant()}; " + Expected),
            };
        }
    }

    private static Result<RefreshRequest> Refs(JsonElement root)
    {
        foreach (var property in root.EnumerateObject())
        {
            if (property.Name != "refs")
                return Result.Fail<RefreshRequest>($"unknown field \"{Text.Quote.Short(property.Name, 60)}\"; " + Expected);
        }
        if (!root.TryGetProperty("refs", out var refs))
            return Result.Fail<RefreshRequest>("the object has no \"refs\"; " + Expected);
        var patterns = Patterns(refs, "refs");
        return patterns.IsOk ? Result.Ok<RefreshRequest>(new RefsToRefresh(RefreshForms.Refs, patterns.Value!, 0)) : Result.Fail<RefreshRequest>(patterns.Error!);
    }

    private static Result<IReadOnlyList<RefPattern>> Patterns(JsonElement refs, string where)
    {
        if (refs.ValueKind != JsonValueKind.Array || refs.GetArrayLength() == 0)
            return Result.Fail<IReadOnlyList<RefPattern>>($"{where} is not a non-empty array of ref patterns");
        if (refs.GetArrayLength() > MaxPatterns)
            return Result.Fail<IReadOnlyList<RefPattern>>($"{where} holds {refs.GetArrayLength()} patterns; at most {MaxPatterns} are taken at once");
        var patterns = new List<RefPattern>();
        var index = 0;
        foreach (var item in refs.EnumerateArray())
        {
            var pattern = item.ValueKind == JsonValueKind.String ? RefPattern.Parse(item.GetString()) : Result.Fail<RefPattern>("not a string");
            if (!pattern.IsOk)
                return Result.Fail<IReadOnlyList<RefPattern>>($"{where}[{index}]: {pattern.Error}");
            patterns.Add(pattern.Value!);
            index++;
        }
        return Result.Ok<IReadOnlyList<RefPattern>>(patterns.Distinct().ToList());
    }

    private static Result<RefreshRequest> Events(IReadOnlyList<JsonElement> events, string form, IReadOnlyList<KeyVaultTarget> vaults)
    {
        var patterns = new List<RefPattern>();
        var ignored = 0;
        for (var i = 0; i < events.Count; i++)
        {
            var where = events.Count == 1 && form == RefreshForms.CloudEvents ? "the CloudEvent" : $"event {i}";
            var envelope = form == RefreshForms.CloudEvents ? CloudEvent(events[i]) : EventGridEvent(events[i]);
            if (!envelope.IsOk)
                return Result.Fail<RefreshRequest>($"{where}: {envelope.Error}");
            var (type, data) = envelope.Value;
            if (type == SubscriptionValidationEvent)
            {
                return data is { ValueKind: JsonValueKind.Object } d && JsonFields.String(d, "validationCode") is { Length: > 0 and <= 256 } code
                    ? Result.Ok<RefreshRequest>(new ValidationHandshake(code))
                    : Result.Fail<RefreshRequest>($"{where}: a subscription validation event without data.validationCode");
            }
            var found = type == KeyVaultEvents.SecretNewVersionCreated ? KeyVaultEvents.Patterns(data ?? default, vaults)
                : data is { ValueKind: JsonValueKind.Object } asked && asked.TryGetProperty("refs", out var refs) ? Patterns(refs, "data.refs")
                : Result.Ok<IReadOnlyList<RefPattern>>([]);
            if (!found.IsOk)
                return Result.Fail<RefreshRequest>($"{where} ({Text.Quote.Short(type, 80)}): {found.Error}");
            if (found.Value!.Count == 0)
                ignored++;
            patterns.AddRange(found.Value);
            if (patterns.Count > MaxPatterns)
                return Result.Fail<RefreshRequest>($"the events name more than {MaxPatterns} refs; at most {MaxPatterns} are taken at once");
        }
        return Result.Ok<RefreshRequest>(new RefsToRefresh(form, patterns.Distinct().ToList(), ignored));
    }

    /// <summary>The Event Grid schema's required fields that say what happened: <c>id</c>, <c>eventType</c>, <c>data</c>.</summary>
    private static Result<(string Type, JsonElement? Data)> EventGridEvent(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object)
            return Result.Fail<(string, JsonElement?)>("not a JSON object; an Event Grid delivery is an array of events");
        if (!IsString(e, "id") || !IsString(e, "eventType"))
            return Result.Fail<(string, JsonElement?)>("no id or eventType; not an Event Grid event");
        return Result.Ok<(string, JsonElement?)>((e.GetProperty("eventType").GetString()!, e.TryGetProperty("data", out var data) ? data : null));
    }

    /// <summary>A CloudEvent's required attributes: <c>specversion</c> 1.0, <c>id</c>, <c>source</c>, <c>type</c>.</summary>
    private static Result<(string Type, JsonElement? Data)> CloudEvent(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object)
            return Result.Fail<(string, JsonElement?)>("not a JSON object; a CloudEvents batch is an array of CloudEvents");
        if (!e.TryGetProperty("specversion", out var version) || version.ValueKind != JsonValueKind.String || version.GetString() != "1.0")
            return Result.Fail<(string, JsonElement?)>("specversion is not \"1.0\"; only CloudEvents 1.0 is taken");
        if (!IsString(e, "id") || !IsString(e, "source") || !IsString(e, "type"))
            return Result.Fail<(string, JsonElement?)>("no id, source or type; a CloudEvent needs all three");
        return Result.Ok<(string, JsonElement?)>((e.GetProperty("type").GetString()!, e.TryGetProperty("data", out var data) ? data : null));
    }

    private static bool IsString(JsonElement e, string name) => e.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString()!.Length > 0;
}
