using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Report;
using ConfigInjector.TestSupport.Builders;
using k8s.Models;

namespace ConfigInjector.Core.Tests.Report;

/// <summary>
/// A pod's controller reference is its own claim: the report attributes it (and <c>report --restart</c> rolls) a
/// workload only when the object it names exists with that uid and its selector matches the pod's labels.
/// </summary>
public class ClaimedControllerTests
{
    private const string ReplicaSetUid = "rs-uid-1";
    private static readonly RefPattern Db = RefPattern.Parse("vault:secret/db").Value!;

    public static TheoryData<string, string, string, string> Claims => new()
    {
        { "its own pod", ReplicaSetUid, "payments", "Deployment payments" },
        { "another uid", "forged-uid", "payments", "Pod tenant-0" },
        { "labels the selector does not match", ReplicaSetUid, "tenant-tool", "Pod tenant-0" },
    };

    [Theory]
    [MemberData(nameof(Claims))]
    public void A_pod_is_attributed_to_a_deployment_only_when_its_replica_set_really_controls_it(string claim, string uid, string app, string expected)
    {
        var pod = PodBuilder.Injected("tenant-0").InNamespace("shop").WithLabel("app", app)
            .WithOwner(new V1OwnerReference { ApiVersion = "apps/v1", Kind = "ReplicaSet", Name = "payments-5d8f7c", Uid = uid, Controller = true })
            .WithAnnotation(AnnotationKeys.Injected, "vault:secret/db#p@4").Build();
        var controllers = new Dictionary<string, PodController>
        {
            [ReplicaSetUid] = new("ReplicaSet", "payments-5d8f7c", new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "payments" } }, new WorkloadRef("Deployment", "payments")),
        };

        var report = BlastRadius.Build(Db, new ClusterSnapshot([pod], [], controllers, new HashSet<(string, string, string)>(), [],
            new Dictionary<SecretLocation, string> { [new("vault", "secret/db", null)] = "5" }));

        var row = Assert.Single(report.Rows);
        Assert.True($"{row.WorkloadKind} {row.Workload}" == expected, claim);
        Assert.Equal(expected.StartsWith("Deployment", StringComparison.Ordinal) ? "restart pending" : "recreate the pod (it has no controller that restarts)", row.Action);
    }
}
