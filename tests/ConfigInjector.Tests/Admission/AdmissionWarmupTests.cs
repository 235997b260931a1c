using System.Text.Json;
using ConfigInjector.Admission;

namespace ConfigInjector.Tests.Admission;

/// <summary>
/// The warm-up only helps if its sample takes the path real pods take: bound, allowed, planned and patched (env,
/// file and secrets-from), not stopped early by a denial. It touches nothing of the replica's own.
/// </summary>
public class AdmissionWarmupTests
{
    [Fact]
    public async Task The_sample_pod_is_admitted_with_a_patch_that_injects_env_and_files()
    {
        var (status, answer) = await AdmissionWarmup.AdmitSampleAsync();

        Assert.Equal(200, status);
        using var review = JsonDocument.Parse(answer);
        var response = review.RootElement.GetProperty("response");
        Assert.True(response.GetProperty("allowed").GetBoolean(), answer);
        var patch = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(response.GetProperty("patch").GetString()!));
        Assert.Contains("secretKeyRef", patch, StringComparison.Ordinal);
        Assert.Contains("volumeMounts", patch, StringComparison.Ordinal);
        Assert.DoesNotContain("sample", patch, StringComparison.Ordinal);     // values only in the Secret, as for any pod
        Assert.Contains("\"name\":\"user\"", patch, StringComparison.Ordinal);      // from secrets-from
    }
}
