using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Planning;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Report;
using ConfigInjector.TestSupport.Builders;
using k8s.Models;

namespace ConfigInjector.Core.Tests.Report;

/// <summary>The cases the cluster tests do not reach: pinned refs, plain settings, pods that finished or are going, opted-out pods.</summary>
public class BlastRadiusTests
{
    private static readonly RefPattern Db = RefPattern.Parse("vault:secret/db").Value!;
    private static readonly byte[] Key = new byte[32];

    private static V1Pod Pod(string name, string injected, string? secret = null, bool env = true)
    {
        var pod = PodBuilder.Injected(name).InNamespace("shop").Build();
        pod.Metadata.Annotations[AnnotationKeys.Injected] = injected;
        if (secret is not null)
        {
            pod.Metadata.Annotations[AnnotationKeys.ManagedSecret] = secret;
            if (env)
                pod.Spec.Containers[0].Env = [new() { Name = "P", ValueFrom = new() { SecretKeyRef = new() { Name = secret, Key = "P" } } }];
        }
        return pod;
    }

    private static V1Secret Secret(string name, string reference, string version) => ManagedSecretFactory.Create(new ManagedSecretSpec(name, "shop",
        new Dictionary<string, string> { ["P"] = "x" }, new Dictionary<string, KeySource> { ["P"] = new(reference, version) }, RotationSettings.Default, null, "default"), Key);

    private static BlastRadiusReport Build(IReadOnlyList<V1Pod> pods, params V1Secret[] secrets) => BlastRadius.Build(Db, new ClusterSnapshot(
        pods, secrets, new Dictionary<string, PodController>(), new HashSet<(string, string, string)>(), [],
        new Dictionary<SecretLocation, string> { [new("vault", "secret/db", null)] = "5" })
    {
        Terminating = pods.Where(p => p.Metadata.DeletionTimestamp is not null).Select(p => (p.Metadata.NamespaceProperty, p.Metadata.Name)).ToHashSet(),
    });

    [Fact]
    public void A_pinned_ref_is_current_at_its_pin_whatever_the_vault_holds()
    {
        var report = Build([Pod("pinned", "vault:secret/db#p@3", "s1")], Secret("s1", "vault:secret/db#p@3", "3"));

        var row = Assert.Single(report.Rows);
        Assert.Equal((PodStanding.Current, "3", "3", "none (pinned to this version)"), (row.Standing, row.PodVersion, row.LatestVersion, row.Action));
    }

    [Fact]
    public void A_plain_setting_on_an_older_version_needs_a_restart_not_a_rotation()
    {
        var report = Build([Pod("plain", "vault:secret/db#p@4")]);

        var row = Assert.Single(report.Rows);
        Assert.Equal((Delivery.Plain, PodStanding.Stale, "recreate the pod (it has no controller that restarts)"), (row.Delivery, row.Standing, row.Action));
    }

    [Fact]
    public void Finished_pods_are_left_out_going_ones_say_so_and_opted_out_ones_are_not_unknown()
    {
        var done = Pod("done", "vault:secret/db#p@4", "s1");
        done.Status = new V1PodStatus { Phase = "Succeeded" };
        var going = Pod("going", "vault:secret/db#p@4", "s1");
        going.Metadata.DeletionTimestamp = new DateTime(2026, 11, 29, 0, 0, 0, DateTimeKind.Utc);
        var optedOut = PodBuilder.Create("opted-out").InNamespace("shop").WithContainer("app")
            .WithAnnotation("configinjector.io/inject", "false").WithAnnotation("configinjector.io/secret.P", "vault:secret/db#p").Build();

        var report = Build([done, going, optedOut], Secret("s1", "vault:secret/db#p", "5"));

        var row = Assert.Single(report.Rows);
        Assert.Equal(("going", "terminating"), (row.Pod, row.Action));
    }
}
