using System.Text;
using ConfigInjector.Core.Patching;
using ConfigInjector.Core.Secrets;
using ConfigInjector.Core.Tests.Planning;
using ConfigInjector.TestSupport.Builders;
using k8s.Models;

namespace ConfigInjector.Core.Tests.Patching;

/// <summary>
/// The admission writes its patch with <see cref="PatchWriter"/>; <see cref="PatchBuilder"/> through
/// <see cref="PatchSerializer"/> is the reference it must equal byte for byte, on every shape a plan can take.
/// </summary>
public class PatchWriterTests
{
    private readonly PurePipeline _pipeline = new();

    public static TheoryData<string> Shapes => [.. ShapeBuilders.Keys];

    private static readonly Dictionary<string, Func<V1Pod>> ShapeBuilders = new()
    {
        ["absent arrays and a file"] = () => PodBuilder.Injected()
            .WithContainer("sidecar", ("A", "1"))
            .WithAnnotation("configinjector.io/secret.U", "dev:app/db#user")
            .WithAnnotation("configinjector.io/file.f", "dev:app/single")
            .Build(),
        ["existing volumes and mounts"] = () => WithMounts(PodBuilder.Injected().WithVolume("data")
            .WithAnnotation("configinjector.io/file.f", "dev:app/single")
            .WithAnnotation("configinjector.io/file.g", "dev:app/db#password")
            .WithAnnotation("configinjector.io/files-dir", "/etc/<app>&'\"+é")
            .Build()),
        ["replaced and added env"] = () => PodBuilder.Create().WithAnnotation("configinjector.io/inject", "true")
            .WithAnnotation("configinjector.io/override", "true")
            .WithAnnotation("configinjector.io/secret.DB_USER", "dev:app/db#user")
            .WithAnnotation("configinjector.io/secret.DB_PASSWORD", "dev:app/db#password")
            .WithContainer("app", ("DB_USER", "local"), ("OTHER", "x"))
            .WithContainer("second")
            .Build(),
        ["inline refs in init and regular containers"] = () => PodBuilder.Injected()
            .WithInitContainer("migrate", ("PORT", "1"), ("DB_PASSWORD", "configinjector:dev:app/db#password"))
            .WithContainer("worker", ("USER", "configinjector:dev:app/db#user"))
            .WithAnnotation("configinjector.io/secret.EXTRA", "dev:app/single")
            .Build(),
        ["init containers with files"] = () => PodBuilder.Injected()
            .WithInitContainer("migrate")
            .WithAnnotation("configinjector.io/init-containers", "true")
            .WithAnnotation("configinjector.io/file.cfg", "dev:app/single")
            .WithAnnotation("configinjector.io/secret.U", "dev:app/db#user")
            .Build(),
        ["plain values needing escapes"] = () => PodBuilder.Injected()
            .WithAnnotation("configinjector.io/config.PLAIN", "config:cfg#odd")
            .Build(),
        ["secrets-from expanded"] = () => PodBuilder.Injected()
            .WithAnnotation("configinjector.io/secrets-from", "dev:app/settings")
            .Build(),
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_written_patch_equals_the_built_one_byte_for_byte(string shape)
    {
        _pipeline.Documents["cfg"] = new SecretDocument("1", new Dictionary<string, string> { ["odd"] = "<b>&'\"+\\ é € 😀 \u2028 \n" });
        var pod = ShapeBuilders[shape]();
        var plan = _pipeline.Plan(pod);

        AssertSameBytes(pod, plan);
        AssertSameBytes(pod, plan.WithoutManagedSecret("the Secret could not be written"));
    }

    [Fact]
    public void A_pod_without_annotations_gets_the_whole_object_as_built()
    {
        var plan = _pipeline.Plan(PodBuilder.Injected().WithAnnotation("configinjector.io/secret.U", "dev:app/db#user").Build());
        var bare = PodBuilder.Create().WithContainer("app").Build();

        AssertSameBytes(bare, plan);
        Assert.StartsWith("""[{"op":"add","path":"/metadata/annotations","value":{""", Encoding.UTF8.GetString(PatchWriter.Write(bare, plan)), StringComparison.Ordinal);
    }

    private static void AssertSameBytes(V1Pod pod, Core.Planning.InjectionPlan plan) =>
        Assert.Equal(
            Encoding.UTF8.GetString(PatchSerializer.ToJsonBytes(PatchBuilder.Build(pod, plan))),
            Encoding.UTF8.GetString(PatchWriter.Write(pod, plan)));

    private static V1Pod WithMounts(V1Pod pod)
    {
        pod.Spec.Containers[0].VolumeMounts = [new V1VolumeMount { Name = "data", MountPath = "/data" }];
        return pod;
    }
}
