using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;

namespace ConfigInjector.ManagedSecrets;

/// <summary>
/// The leases of one managed Secret's dynamic refs, kept where only the injector reads them: a Secret in the injector's
/// own namespace (<see cref="ILeaseRecords"/>), never an annotation, a log, an Event or the pod's namespace. A lease id
/// lets any token with <c>sys/leases</c> rights renew or revoke the credential, so people who may read Secrets in the
/// pod's namespace must not see it; and the record outlives the managed Secret (garbage-collected with its workload), so
/// the worker still knows what to revoke when the workload is gone, even after being down when that happened.
/// </summary>
/// <param name="Version">The store's version of the record (resourceVersion); null for one not saved yet.</param>
internal sealed record LeaseRecord(string Namespace, string SecretName, string ServiceAccount, DateTimeOffset Created, IReadOnlyDictionary<SecretLocation, LeasedCredential> Leases, string? Version = null)
{
    public override string ToString() => $"LeaseRecord({Namespace}/{SecretName}, {Leases.Count} leases)";

    public string ToJson() => new JsonObject
    {
        ["namespace"] = Namespace,
        ["secret"] = SecretName,
        ["serviceAccount"] = ServiceAccount,
        ["created"] = Created.ToString("O", CultureInfo.InvariantCulture),
        ["leases"] = new JsonArray([.. Leases.Values.Select(l => (JsonNode)l.ToJson())]),
    }.ToJsonString();

    /// <summary>The record a store holds, or null for any other shape (it is never an exception).</summary>
    public static LeaseRecord? FromJson(string json, string? version)
    {
        try
        {
            var node = JsonNode.Parse(json)!.AsObject();
            var leases = node["leases"]!.AsArray().Select(l => LeasedCredential.FromJson(l!.AsObject())).ToDictionary(l => l.Location);
            return new LeaseRecord(node["namespace"]!.GetValue<string>(), node["secret"]!.GetValue<string>(), node["serviceAccount"]!.GetValue<string>(),
                DateTimeOffset.Parse(node["created"]!.GetValue<string>(), CultureInfo.InvariantCulture), leases, version);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or FormatException or ArgumentException)
        {
            return null;
        }
    }
}

/// <summary>
/// One credential and its lease; <see cref="Previous"/> is the lease it replaced, revoked once no pod holds it any more
/// (every pod of the Secret was created after <see cref="Issued"/>).
/// </summary>
internal sealed record LeasedCredential(SecretLocation Location, SecretDocument Document, Lease Lease, Lease? Previous = null)
{
    public DateTimeOffset Issued => Lease.IssuedAt;

    public override string ToString() => $"LeasedCredential({Location}, {Lease})";

    public JsonObject ToJson() => new()
    {
        ["backend"] = Location.Backend,
        ["path"] = Location.Path,
        ["data"] = new JsonObject([.. Document.Data.Select(d => KeyValuePair.Create(d.Key, (JsonNode?)d.Value))]),
        ["lease"] = Json(Lease),
        ["previous"] = Previous is null ? null : Json(Previous),
    };

    public static LeasedCredential FromJson(JsonObject node)
    {
        var lease = ReadLease(node["lease"]!.AsObject());
        var data = node["data"]!.AsObject().ToDictionary(d => d.Key, d => d.Value!.GetValue<string>(), StringComparer.Ordinal);
        return new LeasedCredential(new SecretLocation(node["backend"]!.GetValue<string>(), node["path"]!.GetValue<string>(), null),
            new SecretDocument(Core.Secrets.Lease.Fingerprint(lease.Id), data), lease, node["previous"] is JsonObject previous ? ReadLease(previous) : null);
    }

    private static JsonObject Json(Lease lease) => new()
    {
        ["id"] = lease.Id,
        ["issued"] = lease.IssuedAt.ToString("O", CultureInfo.InvariantCulture),
        ["expires"] = lease.ExpiresAt.ToString("O", CultureInfo.InvariantCulture),
        ["ttl"] = (long)lease.Ttl.TotalSeconds,
        ["granted"] = (long)lease.Granted.TotalSeconds,
        ["renewable"] = lease.Renewable,
        ["capped"] = lease.Capped,
    };

    private static Lease ReadLease(JsonObject node) => new(
        node["id"]!.GetValue<string>(),
        DateTimeOffset.Parse(node["issued"]!.GetValue<string>(), CultureInfo.InvariantCulture),
        DateTimeOffset.Parse(node["expires"]!.GetValue<string>(), CultureInfo.InvariantCulture),
        TimeSpan.FromSeconds(node["ttl"]!.GetValue<long>()),
        TimeSpan.FromSeconds(node["granted"]!.GetValue<long>()),
        node["renewable"]!.GetValue<bool>(),
        node["capped"]!.GetValue<bool>());
}
