using ConfigInjector.Kubernetes;
using ConfigInjector.TestSupport;
using k8s.Models;

namespace ConfigInjector.Tests.Configuration;

/// <summary>The CRDs the chart ships are what the code watches, and every example object fits their schema's required fields and enums.</summary>
public class CrdTests
{
    private static V1CustomResourceDefinition Load(string file) =>
        KubeYaml.Deserialize<V1CustomResourceDefinition>(File.ReadAllText(RepoPaths.Combine("charts", "config-injector", "crds", file)));

    [Theory]
    [InlineData("secretpolicies.configinjector.io.yaml", "secretpolicies", "SecretPolicy")]
    [InlineData("configprofiles.configinjector.io.yaml", "configprofiles", "ConfigProfile")]
    public void The_crds_are_cluster_scoped_structural_and_match_the_watched_resources(string file, string plural, string kind)
    {
        var crd = Load(file);

        Assert.Equal($"{plural}.{CustomResourcePolicySource.Group}", crd.Metadata.Name);
        Assert.Equal(CustomResourcePolicySource.Group, crd.Spec.Group);
        Assert.Equal("Cluster", crd.Spec.Scope);
        Assert.Equal((plural, kind), (crd.Spec.Names.Plural, crd.Spec.Names.Kind));
        var version = Assert.Single(crd.Spec.Versions);
        Assert.Equal((CustomResourcePolicySource.Version, true, true), (version.Name, version.Served, version.Storage));
        Assert.Equal("object", version.Schema.OpenAPIV3Schema.Type);
        Assert.Equal("object", version.Schema.OpenAPIV3Schema.Properties["spec"].Type);
        Assert.Contains(version.AdditionalPrinterColumns, c => c.Name == "Age");
    }

    [Fact]
    public void The_secret_policy_schema_knows_the_enums_the_reader_accepts()
    {
        var spec = Load("secretpolicies.configinjector.io.yaml").Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"];

        Assert.Equal(["subjects", "rules"], spec.Required);
        Assert.Equal(["deny", "allow-stale", "skip"], spec.Properties["onBackendError"].EnumProperty.Select(e => e.ToString()));
        Assert.Equal(["restart", "none"], spec.Properties["rotation"].Properties["onChange"].EnumProperty.Select(e => e.ToString()));
    }
}
