using System.Text;
using System.Text.Json.Nodes;
using ConfigInjector.TestSupport;
using k8s;
using k8s.Models;

namespace ConfigInjector.Tests.Admission;

/// <summary>
/// Pod manifests as real controllers and other webhooks produce them (testdata/real-world; drop more files in to
/// check them too) go through the HTTPS webhook, and every promise of DESIGN.md §2 and §6 is checked on the result.
/// </summary>
public class RealWorldManifestTests(WebhookFixture fixture) : IClassFixture<WebhookFixture>
{
    private static readonly string Root = Path.Combine(AppContext.BaseDirectory, "testdata", "real-world");

    public static TheoryData<string> Manifests()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Root, "*.yaml").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(file));
        return data;
    }

    [Theory]
    [MemberData(nameof(Manifests))]
    public async Task The_patch_applies_loses_nothing_leaks_nothing_and_a_second_pass_is_empty(string file)
    {
        var original = ConfigInjector.Manifests.YamlJson.Parse(await File.ReadAllTextAsync(Path.Combine(Root, file))).Single()!;
        var podJson = original.ToJsonString();
        var ns = original["metadata"]!["namespace"]!.GetValue<string>();

        var review = await fixture.Server.ReviewPodAsync(podJson, ns);

        Assert.True(review.Allowed, review.Message);
        Assert.NotNull(review.Patch);
        var patched = JsonNode.Parse(PatchOracle.Apply(podJson, review.Patch).ToString(Newtonsoft.Json.Formatting.None))!;
        Assert.Empty(PodChecks.Lost(original, patched));

        var before = KubernetesJson.Deserialize<V1Pod>(podJson);
        var after = KubernetesJson.Deserialize<V1Pod>(patched.ToJsonString());
        Assert.Empty(PodChecks.Problems(after, before, name => fixture.Server.Secrets.Find(ns, name)));
        Assert.Equal(after.Metadata.Annotations["configinjector.io/managed-secret"], fixture.Server.Secrets.Find(ns, after.Metadata.Annotations["configinjector.io/managed-secret"])?.Metadata.Name);

        foreach (var value in DevSecrets.Values())
        {
            Assert.DoesNotContain(value, patched.ToJsonString(), StringComparison.Ordinal);
            Assert.DoesNotContain(value, review.Body, StringComparison.Ordinal);
        }

        var second = await fixture.Server.ReviewPodAsync(patched.ToJsonString(), ns);
        Assert.True(second.Allowed);
        Assert.Null(second.Patch);
        Assert.DoesNotContain("\"op\":\"remove\"", Encoding.UTF8.GetString(review.Patch), StringComparison.Ordinal);
    }
}
