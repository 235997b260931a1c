using System.Text;
using ConfigInjector.Core.Patching;
using ConfigInjector.Core.Tests.Planning;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Builders;

namespace ConfigInjector.Core.Tests.Patching;

public class PatchBuilderTests
{
    private readonly PurePipeline _pipeline = new();

    [Fact]
    public void Annotation_keys_are_escaped_as_json_pointers()
    {
        Assert.Equal("configinjector.io~1injected", JsonPointer.Escape("configinjector.io/injected"));
        Assert.Equal("a~0b~1c", JsonPointer.Escape("a~b/c"));
    }

    [Fact]
    public void Absent_arrays_are_added_whole_and_present_ones_appended()
    {
        var pod = PodBuilder.Injected()
            .WithContainer("sidecar", ("A", "1"))
            .WithAnnotation("configinjector.io/secret.U", "dev:app/db#user")
            .WithAnnotation("configinjector.io/file.f", "dev:app/single")
            .Build();

        var ops = PatchBuilder.Build(pod, _pipeline.Plan(pod));

        Assert.Equal(
            [
                "add /metadata/annotations/configinjector.io~1injected",
                "add /metadata/annotations/configinjector.io~1managed-secret",
                "add /spec/volumes",
                "add /spec/containers/0/env",
                "add /spec/containers/1/env/-",
                "add /spec/containers/0/volumeMounts",
                "add /spec/containers/1/volumeMounts",
            ],
            ops.Select(o => $"{o.Op} {o.Path}"));
    }

    [Fact]
    public void A_pod_without_annotations_gets_the_whole_annotations_object()
    {
        var pod = PodBuilder.Create().WithContainer("app").Build();
        var plan = _pipeline.Plan(PodBuilder.Injected().WithAnnotation("configinjector.io/secret.U", "dev:app/db#user").Build());

        var ops = PatchBuilder.Build(pod, plan);

        Assert.Equal("add /metadata/annotations", $"{ops[0].Op} {ops[0].Path}");
    }

    [Fact]
    public void The_patch_applies_with_an_independent_implementation()
    {
        var builder = PodBuilder.Injected().WithAnnotation("configinjector.io/secret.U", "dev:app/db#user");
        var pod = builder.Build();

        var patch = PatchSerializer.ToJsonBytes(PatchBuilder.Build(pod, _pipeline.Plan(pod)));
        var patched = PatchOracle.Apply(builder.ToJson(), patch);

        Assert.Equal("U", (string?)patched["spec"]!["containers"]![0]!["env"]![0]!["name"]);
        Assert.Equal("dev:app/db#user@3", (string?)patched["metadata"]!["annotations"]!["configinjector.io/injected"]);
        Assert.DoesNotContain("app-user", Encoding.UTF8.GetString(patch), StringComparison.Ordinal);
    }
}
