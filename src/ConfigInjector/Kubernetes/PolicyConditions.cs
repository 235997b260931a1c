using System.Globalization;
using System.Text.Json.Nodes;

namespace ConfigInjector.Kubernetes;

/// <summary>
/// The status of a SecretPolicy or ConfigProfile, after the Kubernetes API conventions for conditions
/// (https://github.com/kubernetes/community/blob/master/contributors/devel/sig-architecture/api-conventions.md#typical-status-properties):
/// one <c>Ready</c> condition (True: the webhook uses the object — reason <c>UnknownBackend</c> when part of it names a
/// backend this install lacks, so that part does nothing; False, reason <c>Invalid</c>: it is left out, and the message
/// says why) with the generation it was judged at, and <c>observedGeneration</c> beside it.
/// </summary>
internal static class PolicyConditions
{
    public const string Ready = "Ready";
    public const string Valid = "Valid";
    public const string Invalid = "Invalid";
    public const string UnknownBackend = "UnknownBackend";
    public const string InUse = "used by the webhook";

    /// <summary>Far below the API's 32768: a reason quoting a huge field value is cut, not refused.</summary>
    public const int MaxMessage = 1024;

    /// <summary>
    /// The status <paramref name="current"/> should become, or null when it already says this: nothing to write. The
    /// condition's lastTransitionTime moves only when its status flips; other conditions are kept as they are.
    /// </summary>
    public static JsonObject? Next(JsonObject? current, long generation, string? problem, DateTimeOffset now, string? warning = null)
    {
        var (status, reason, message) = problem is not null ? ("False", Invalid, Cut(problem))
            : warning is not null ? ("True", UnknownBackend, Cut($"{InUse}, but it {warning}"))
            : ("True", Valid, InUse);
        var conditions = (current?["conditions"] as JsonArray)?.OfType<JsonObject>().ToList() ?? [];
        var ready = conditions.FirstOrDefault(c => Text(c, "type") == Ready);
        if (ready is not null && Text(ready, "status") == status && Text(ready, "reason") == reason && Text(ready, "message") == message
            && Number(ready, "observedGeneration") == generation && Number(current, "observedGeneration") == generation)
            return null;
        var since = ready is not null && Text(ready, "status") == status && Text(ready, "lastTransitionTime") is { } kept
            ? kept
            : now.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var next = (JsonObject?)current?.DeepClone() ?? [];
        next["observedGeneration"] = generation;
        next["conditions"] = new JsonArray([
            .. conditions.Where(c => c != ready).Select(c => c.DeepClone()),
            new JsonObject
            {
                ["type"] = Ready,
                ["status"] = status,
                ["observedGeneration"] = generation,
                ["lastTransitionTime"] = since,
                ["reason"] = reason,
                ["message"] = message,
            },
        ]);
        return next;
    }

    private static string Cut(string problem) => problem.Length <= MaxMessage ? problem : problem[..(MaxMessage - 1)] + "…";

    private static string? Text(JsonObject? node, string key) => node?[key] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private static long? Number(JsonObject? node, string key) => node?[key] is JsonValue value && value.TryGetValue<long>(out var number) ? number : null;
}
