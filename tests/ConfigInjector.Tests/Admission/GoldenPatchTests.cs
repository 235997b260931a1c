using ConfigInjector.TestSupport;
using k8s;
using k8s.Models;
using Newtonsoft.Json.Linq;

namespace ConfigInjector.Tests.Admission;

/// <summary>
/// Golden scenarios as data: testdata/patches/&lt;case&gt;/pod.yaml goes through the real HTTPS webhook, the patch is
/// applied by an independent RFC 6902 implementation, and the result must equal expected.yaml (and the warnings
/// warnings.txt; for a case with secret-data.json, the managed Secret's values too, so a template's rendered text is
/// golden as well). Set UPDATE_GOLDEN=1 to rewrite the expected files, then review the diff.
/// </summary>
public class GoldenPatchTests(WebhookFixture fixture) : IClassFixture<WebhookFixture>
{
    private static readonly string CasesRoot = Path.Combine(AppContext.BaseDirectory, "testdata", "patches");
    private static readonly string SourceRoot = RepoPaths.Combine("tests", "ConfigInjector.Tests", "testdata", "patches");

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var dir in Directory.GetDirectories(CasesRoot).Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(dir));
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Patched_pod_matches_the_expected_pod(string name)
    {
        var pod = KubeYaml.Deserialize<V1Pod>(await File.ReadAllTextAsync(Path.Combine(CasesRoot, name, "pod.yaml")));
        var podJson = KubernetesJson.Serialize(pod);

        var review = await fixture.Server.ReviewPodAsync(podJson, pod.Metadata.NamespaceProperty);

        Assert.True(review.Allowed, review.Message);
        var patched = review.Patch is null ? JObject.Parse(podJson) : PatchOracle.Apply(podJson, review.Patch);
        var actualPod = KubernetesJson.Deserialize<V1Pod>(patched.ToString());
        var warnings = string.Join("\n", review.Warnings);
        var secretData = SecretData(actualPod);
        var secretDataFile = Path.Combine(CasesRoot, name, "secret-data.json");

        if (Environment.GetEnvironmentVariable("UPDATE_GOLDEN") == "1")
        {
            await File.WriteAllTextAsync(Path.Combine(SourceRoot, name, "expected.yaml"), KubeYaml.Serialize(actualPod));
            await File.WriteAllTextAsync(Path.Combine(SourceRoot, name, "warnings.txt"), warnings.Length == 0 ? "" : warnings + "\n");
            if (File.Exists(secretDataFile))
                await File.WriteAllTextAsync(Path.Combine(SourceRoot, name, "secret-data.json"), secretData + "\n");
            // A rewrite is not a pass: review the diff, commit it, then run again without UPDATE_GOLDEN.
            Assert.Fail($"{name}: expected.yaml and warnings.txt rewritten (UPDATE_GOLDEN=1); review the diff and run again without it");
        }

        var expected = KubeYaml.Deserialize<V1Pod>(await File.ReadAllTextAsync(Path.Combine(CasesRoot, name, "expected.yaml")));
        Assert.Equal(Normalized(expected), Normalized(actualPod));
        Assert.Equal((await File.ReadAllTextAsync(Path.Combine(CasesRoot, name, "warnings.txt"))).TrimEnd('\n'), warnings);
        if (File.Exists(secretDataFile))
            Assert.Equal((await File.ReadAllTextAsync(secretDataFile)).TrimEnd('\n'), secretData);
    }

    /// <summary>The managed Secret's values as indented JSON (keys in order), or "null" when the pod names none.</summary>
    private string SecretData(V1Pod pod)
    {
        string? name = null;
        pod.Metadata.Annotations?.TryGetValue("configinjector.io/managed-secret", out name);
        var secret = name is null ? null : fixture.Server.Secrets.Find(pod.Metadata.NamespaceProperty, name);
        if (secret?.Data is null)
            return "null";
        var data = new SortedDictionary<string, string>(secret.Data.ToDictionary(d => d.Key, d => System.Text.Encoding.UTF8.GetString(d.Value)), StringComparer.Ordinal);
        return System.Text.Json.JsonSerializer.Serialize(data, Indented);
    }

    private static readonly System.Text.Json.JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_second_pass_over_the_patched_pod_changes_nothing(string name)
    {
        var podJson = KubernetesJson.Serialize(KubeYaml.Deserialize<V1Pod>(await File.ReadAllTextAsync(Path.Combine(CasesRoot, name, "pod.yaml"))));
        var first = await fixture.Server.ReviewPodAsync(podJson);
        var patched = first.Patch is null ? podJson : PatchOracle.Apply(podJson, first.Patch).ToString();

        var second = await fixture.Server.ReviewPodAsync(patched);

        Assert.True(second.Allowed);
        Assert.Null(second.Patch);
    }

    private static string Normalized(V1Pod pod) => JToken.Parse(KubernetesJson.Serialize(pod)).ToString();
}
