using System.Text.Json.Nodes;
using ConfigInjector.Kubernetes;
using ConfigInjector.Sync;
using ConfigInjector.Tests.Chart;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Fakes;
using Microsoft.Extensions.DependencyInjection;

namespace ConfigInjector.Tests.Kubernetes;

/// <summary>
/// The security team sees each SecretPolicy's and ConfigProfile's state in kubectl: the leader writes a Ready
/// condition (False, reason Invalid, with the webhook's reason; True once fixed) and observedGeneration through the
/// status subresource, only when they change.
/// </summary>
public sealed class PolicyStatusTests : IAsyncLifetime
{
    private const string StatusWrites = "PUT secretpolicies/status";

    private ClusterEnvironment _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ClusterEnvironment.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static JsonObject Policy(string name, string onBackendError) => new()
    {
        ["apiVersion"] = "configinjector.io/v1alpha1",
        ["kind"] = "SecretPolicy",
        ["metadata"] = new JsonObject { ["name"] = name },
        ["spec"] = new JsonObject
        {
            ["subjects"] = new JsonObject { ["namespaces"] = new JsonArray("shop") },
            ["rules"] = new JsonArray(new JsonObject { ["backend"] = "vault-prod", ["paths"] = new JsonArray("secret/shop/**") }),
            ["onBackendError"] = onBackendError,
        },
    };

    private static JsonObject? Ready(JsonObject? item) =>
        (item?["status"]?["conditions"] as JsonArray)?.OfType<JsonObject>().SingleOrDefault(c => c["type"]?.GetValue<string>() == "Ready");

    private static string? Field(JsonObject? condition, string name) => condition?[name]?.ToString();

    private JsonObject? StoredPolicy(string name) => _cluster.Api.Get("secretpolicies", null, name);

    [Fact]
    public async Task An_invalid_policy_is_not_ready_with_the_webhooks_reason_and_fixing_it_makes_it_ready_at_the_new_generation()
    {
        await _cluster.StartReplicaAsync(policiesFromCluster: true);
        _cluster.Api.Put("secretpolicies", Policy("shop", "ignore-errors"));

        await Eventually.TrueAsync(() => Ready(StoredPolicy("shop")) is not null, "the leader to write the status");
        var invalid = StoredPolicy("shop")!;
        var condition = Ready(invalid)!;
        Assert.Equal(("False", "Invalid"), (Field(condition, "status"), Field(condition, "reason")));
        Assert.Equal("spec.onBackendError: \"ignore-errors\" is not deny, allow-stale or skip", Field(condition, "message"));
        Assert.Equal(("1", "1"), (Field(condition, "observedGeneration"), invalid["status"]!["observedGeneration"]!.ToString()));
        Assert.Null(CrdSchema.SecretPolicies.Problem(new JsonObject { ["spec"] = Policy("x", "deny")["spec"]!.DeepClone(), ["status"] = invalid["status"]!.DeepClone() }));
        var invalidSince = DateTimeOffset.Parse(Field(condition, "lastTransitionTime")!, System.Globalization.CultureInfo.InvariantCulture);

        await Task.Delay(TimeSpan.FromSeconds(1.1)); // lastTransitionTime counts whole seconds
        _cluster.Api.Update("secretpolicies", null, "shop", p => p["spec"]!["onBackendError"] = "deny");
        await Eventually.TrueAsync(() => Field(Ready(StoredPolicy("shop")), "status") == "True", "the fixed policy to turn ready");
        var ready = Ready(StoredPolicy("shop"))!;
        Assert.Equal(("Valid", "used by the webhook", "2"), (Field(ready, "reason"), Field(ready, "message"), Field(ready, "observedGeneration")));
        Assert.Equal("2", StoredPolicy("shop")!["status"]!["observedGeneration"]!.ToString());
        var readySince = DateTimeOffset.Parse(Field(ready, "lastTransitionTime")!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(readySince > invalidSince, $"lastTransitionTime moves when the condition flips ({invalidSince:O} → {readySince:O})");

        // Another valid spec: a new generation observed, but no transition.
        await Task.Delay(TimeSpan.FromSeconds(1.1));
        _cluster.Api.Update("secretpolicies", null, "shop", p => p["spec"]!["onBackendError"] = "skip");
        await Eventually.TrueAsync(() => Field(Ready(StoredPolicy("shop")), "observedGeneration") == "3", "generation 3 to be observed");
        Assert.Equal(Field(ready, "lastTransitionTime"), Field(Ready(StoredPolicy("shop")), "lastTransitionTime"));
    }

    [Fact]
    public async Task A_policy_naming_a_backend_the_install_lacks_says_so_in_its_status_and_fixing_it_makes_it_valid()
    {
        var replica = await _cluster.StartReplicaAsync(policiesFromCluster: true);
        var typo = Policy("shop", "deny");
        typo["spec"]!["rules"]!.AsArray().Add(new JsonObject { ["backend"] = "vault-prd", ["paths"] = new JsonArray("secret/shop/**") });
        _cluster.Api.Put("secretpolicies", typo);

        await Eventually.TrueAsync(() => Ready(StoredPolicy("shop")) is not null, "the leader to write the status");
        var condition = Ready(StoredPolicy("shop"));
        // Still used (its other rule allows), but what the typo meant to allow is never injected: said where kubectl shows it.
        Assert.Equal(("True", "UnknownBackend"), (Field(condition, "status"), Field(condition, "reason")));
        Assert.Equal("used by the webhook, but it names backend vault-prd, not configured in this install (configured: vault-prod): what it allows is never injected",
            Field(condition, "message"));
        Assert.Contains("SecretPolicy shop names backend vault-prd", replica.AllLogText(), StringComparison.Ordinal);

        _cluster.Api.Update("secretpolicies", null, "shop", p => p["spec"]!["rules"]!.AsArray()[1]!["backend"] = "vault-prod");
        await Eventually.TrueAsync(() => Field(Ready(StoredPolicy("shop")), "reason") == "Valid", "the fixed policy to be valid");
    }

    [Fact]
    public async Task A_config_profile_gets_the_same_status()
    {
        await _cluster.StartReplicaAsync(policiesFromCluster: true);
        _cluster.Api.Put("configprofiles", new JsonObject
        {
            ["apiVersion"] = "configinjector.io/v1alpha1",
            ["kind"] = "ConfigProfile",
            ["metadata"] = new JsonObject { ["name"] = "tracing" },
            ["spec"] = new JsonObject { ["env"] = new JsonObject { ["1OTEL"] = "http://otel:4317" } },
        });
        JsonObject? Stored() => _cluster.Api.Get("configprofiles", null, "tracing");

        await Eventually.TrueAsync(() => Ready(Stored()) is not null, "the leader to write the profile's status");
        Assert.Equal(("False", "Invalid", "spec.env.1OTEL: \"1OTEL\" is not a valid environment variable name"), (Field(Ready(Stored()), "status"), Field(Ready(Stored()), "reason"), Field(Ready(Stored()), "message")));
        Assert.Null(CrdSchema.ConfigProfiles.Problem(new JsonObject { ["spec"] = new JsonObject { ["env"] = new JsonObject { ["A"] = "b" } }, ["status"] = Stored()!["status"]!.DeepClone() }));

        _cluster.Api.Update("configprofiles", null, "tracing", p => p["spec"] = new JsonObject { ["env"] = new JsonObject { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://otel:4317" } });
        await Eventually.TrueAsync(() => Field(Ready(Stored()), "status") == "True", "the fixed profile to turn ready");
        Assert.Equal(("Valid", "2", "2"), (Field(Ready(Stored()), "reason"), Field(Ready(Stored()), "observedGeneration"), Stored()!["status"]!["observedGeneration"]!.ToString()));
    }

    [Fact]
    public async Task A_replica_that_does_not_lead_writes_no_status()
    {
        // Another replica holds the Lease and keeps renewing it.
        var lease = ConfigInjector.Hosting.ReleaseNames.Default.Lease;
        _cluster.Api.Put("leases", new JsonObject
        {
            ["apiVersion"] = "coordination.k8s.io/v1",
            ["kind"] = "Lease",
            ["metadata"] = new JsonObject { ["name"] = lease, ["namespace"] = "config-injector" },
            ["spec"] = new JsonObject { ["holderIdentity"] = "replica-z", ["leaseDurationSeconds"] = 3, ["renewTime"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", System.Globalization.CultureInfo.InvariantCulture) },
        });
        using var renewing = new CancellationTokenSource();
        var renewer = Task.Run(async () =>
        {
            while (!renewing.IsCancellationRequested)
            {
                _cluster.Api.Update("leases", "config-injector", lease, l => l["spec"]!["renewTime"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", System.Globalization.CultureInfo.InvariantCulture));
                await Task.Delay(300);
            }
        });
        _cluster.Api.Put("secretpolicies", Policy("shop", "ignore-errors"));
        var server = await _cluster.StartReplicaAsync("replica-a", policiesFromCluster: true);
        var source = server.Services.GetRequiredService<CustomResourcePolicySource>();

        await Eventually.TrueAsync(() => source.Verdicts.Any(v => v.Problem is not null), "the replica to judge the invalid policy");
        // Several election rounds (retry 0.5s), each long enough for a leader to write.
        var rounds = _cluster.Api.RequestsBy.Count(r => r.StartsWith("replica-a GET leases", StringComparison.Ordinal));
        await Eventually.TrueAsync(() => _cluster.Api.RequestsBy.Count(r => r.StartsWith("replica-a GET leases", StringComparison.Ordinal)) >= rounds + 4, "four more election rounds");
        Assert.False(server.Services.GetRequiredService<SyncWorker>().IsLeader);
        Assert.DoesNotContain(_cluster.Api.RequestsBy, r => r.Contains("/status ", StringComparison.Ordinal));
        Assert.Null(StoredPolicy("shop")!["status"]);

        // The same replica, once it leads, does write: the wait above was long enough to see one.
        await renewing.CancelAsync();
        await renewer;
        await Eventually.TrueAsync(() => Ready(StoredPolicy("shop")) is not null, "the status once replica-a leads", TimeSpan.FromSeconds(15));
        Assert.All(_cluster.Api.RequestsBy.Where(r => r.Contains("/status ", StringComparison.Ordinal)), r => Assert.StartsWith("replica-a ", r, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Nothing_is_written_when_nothing_changed_however_often_the_objects_are_read_again()
    {
        var server = await _cluster.StartReplicaAsync(policiesFromCluster: true);
        _cluster.Api.Put("secretpolicies", Policy("shop", "deny"));
        _cluster.Api.Put("secretpolicies", Policy("broken", "ignore-errors"));
        await Eventually.TrueAsync(() => Ready(StoredPolicy("shop")) is not null && Ready(StoredPolicy("broken")) is not null, "both statuses");
        var writer = server.Services.GetRequiredService<PolicyStatusWriter>();
        var source = server.Services.GetRequiredService<CustomResourcePolicySource>();
        var before = (Shop: StoredPolicy("shop")!["status"]!.ToJsonString(), Broken: StoredPolicy("broken")!["status"]!.ToJsonString());

        // A relist (etcd compaction: every watch must list again) and a change to metadata only (a new resourceVersion, the same generation).
        _cluster.Api.Compact();
        _cluster.Api.Update("secretpolicies", null, "broken", p => p["metadata"]!["labels"] = new JsonObject { ["team"] = "security" });
        var relabelled = StoredPolicy("broken")!["metadata"]!["resourceVersion"]!.GetValue<string>();
        await Eventually.TrueAsync(() => source.Verdicts.Any(v => v.Item.Metadata.ResourceVersion == relabelled), "the replica to see the relabelled policy");
        var passes = writer.Passes;
        await Eventually.TrueAsync(() => writer.Passes >= passes + 3, "three more passes of the status writer");

        Assert.Equal(2, _cluster.Api.Count(StatusWrites));
        Assert.Equal(before, (StoredPolicy("shop")!["status"]!.ToJsonString(), StoredPolicy("broken")!["status"]!.ToJsonString()));
    }
}
