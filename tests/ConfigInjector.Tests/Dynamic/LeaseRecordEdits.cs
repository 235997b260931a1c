using System.Text;
using ConfigInjector.ManagedSecrets;
using ConfigInjector.TestSupport.Fakes;

namespace ConfigInjector.Tests.Dynamic;

internal static class LeaseRecordEdits
{
    /// <summary>Rewrites the one lease record in the injector's namespace, as the API server would keep the change.</summary>
    public static void EditLeaseRecord(this KubeApiFake api, Func<LeaseRecord, LeaseRecord> change)
    {
        var stored = api.All("secrets", "config-injector").Single(s => s["metadata"]!["labels"]?[ConfigInjector.Kubernetes.KubernetesLeaseRecords.Label] is not null);
        api.Update("secrets", "config-injector", stored["metadata"]!["name"]!.GetValue<string>(), s =>
        {
            var record = LeaseRecord.FromJson(Encoding.UTF8.GetString(Convert.FromBase64String(s["data"]!["record"]!.GetValue<string>())), null)!;
            s["data"]!["record"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(change(record).ToJson()));
        });
    }

    /// <summary>The record's leases as ended at <paramref name="at"/> (nobody renewed or re-issued them).</summary>
    public static LeaseRecord EndedAt(this LeaseRecord record, DateTimeOffset at) => record with
    {
        Leases = record.Leases.ToDictionary(l => l.Key, l => l.Value with { Lease = l.Value.Lease with { ExpiresAt = at } }),
    };
}
