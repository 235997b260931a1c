using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Planning;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Report;
using ConfigInjector.Core.Secrets;
using ConfigInjector.TestSupport.Builders;
using k8s.Models;

namespace ConfigInjector.Core.Tests.Report;

/// <summary>
/// Dynamic refs in the blast radius, the cases the cluster tests do not reach: a pod still on the lease its record
/// replaced, a lease at its max TTL, and a pod whose lease is no longer in the record at all.
/// </summary>
public class DynamicBlastRadiusTests
{
    private const string Ref = "vault:database/creds/shop#username";
    private static readonly SecretLocation Creds = new("vault", "database/creds/shop", null);
    private static readonly RefPattern Pattern = RefPattern.Parse("vault:database/**").Value!;
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
    private static readonly Lease Old = new("database/creds/shop/old", Now.AddHours(-23), Now.AddMinutes(30), TimeSpan.FromHours(1), TimeSpan.FromHours(1), true);
    private static readonly Lease New = new("database/creds/shop/new", Now.AddMinutes(-5), Now.AddMinutes(55), TimeSpan.FromHours(1), TimeSpan.FromHours(1), true);

    private static V1Pod Pod(string name, string version, bool env)
    {
        var pod = PodBuilder.Injected(name).InNamespace("shop").Build();
        pod.Metadata.Annotations[AnnotationKeys.Injected] = $"{Ref}@{version}";
        pod.Metadata.Annotations[AnnotationKeys.ManagedSecret] = "s1";
        if (env)
            pod.Spec.Containers[0].Env = [new() { Name = "U", ValueFrom = new() { SecretKeyRef = new() { Name = "s1", Key = "U" } } }];
        else
            pod.Spec.Volumes = [new() { Name = "creds", Secret = new() { SecretName = "s1" } }];
        return pod;
    }

    private static BlastRadiusReport Build(HeldLease held, params V1Pod[] pods)
    {
        var secret = ManagedSecretFactory.Create(new ManagedSecretSpec("s1", "shop", new Dictionary<string, string> { ["U"] = "x" },
            new Dictionary<string, KeySource> { ["U"] = new(Ref, Lease.Fingerprint(held.Current.Id)) }, RotationSettings.Default, null, "default"), new byte[32]);
        // A latest version for the path, as a KV read would give: a dynamic path must not be compared with it.
        return BlastRadius.Build(Pattern, new ClusterSnapshot(pods, [secret], new Dictionary<string, PodController>(), new HashSet<(string, string, string)>(), [],
            new Dictionary<SecretLocation, string> { [Creds] = "7" })
        {
            Dynamic = new HashSet<SecretLocation> { Creds },
            Leases = new Dictionary<(string, string), IReadOnlyDictionary<SecretLocation, HeldLease>> { [("shop", "s1")] = new Dictionary<SecretLocation, HeldLease> { [Creds] = held } },
            Now = Now,
        });
    }

    [Fact]
    public void A_pod_started_before_a_reissue_holds_the_replaced_lease_until_it_restarts_while_a_file_follows_the_new_one()
    {
        var report = Build(new HeldLease(New, Old), Pod("env", Lease.Fingerprint(Old.Id), env: true), Pod("file", Lease.Fingerprint(Old.Id), env: false));

        var env = report.Rows.Single(r => r.Pod == "env");
        Assert.Equal((PodStanding.Stale, LeaseState.Replaced, Lease.Fingerprint(New.Id)), (env.Standing, env.Lease!.State, env.LatestVersion));
        Assert.Equal("replaced, expires 2026-12-07 12:30Z (in 30m); revoked once the rollout is done", env.Lease.Describe(Now));
        var file = report.Rows.Single(r => r.Pod == "file");
        Assert.Equal((PodStanding.Current, LeaseState.Live), (file.Standing, file.Lease!.State));
        Assert.Equal("expires 2026-12-07 12:55Z (in 55m), renewal due 2026-12-07 12:35Z", file.Lease.Describe(Now));
        Assert.Equal(0, report.Summary.PodsLeaseEnded);
    }

    [Fact]
    public void A_lease_at_its_max_ttl_says_new_credentials_are_due()
    {
        var capped = New with { Granted = TimeSpan.FromMinutes(30), ExpiresAt = Now.AddMinutes(25), Capped = true };

        var row = Assert.Single(Build(new HeldLease(capped, null), Pod("env", Lease.Fingerprint(New.Id), env: true)).Rows);

        Assert.Equal((PodStanding.Current, true), (row.Standing, row.Lease!.MaxTtlReached));
        Assert.Equal("expires 2026-12-07 12:25Z (in 25m), not renewable past it (max TTL): new credentials due 2026-12-07 12:15Z", row.Lease.Describe(Now));
    }

    [Fact]
    public void A_pod_whose_lease_is_no_longer_in_the_record_is_flagged_as_ended()
    {
        var row = Assert.Single(Build(new HeldLease(New, null), Pod("env", "lease-0000000000", env: true)).Rows);

        Assert.Equal((PodStanding.Stale, LeaseState.Expired, true), (row.Standing, row.Lease!.State, row.Lease.Flagged));
        Assert.Equal("ENDED: no longer in the lease record (revoked or expired)", row.Lease.Describe(Now));
    }
}
