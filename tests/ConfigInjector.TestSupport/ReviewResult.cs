using System.Net;
using System.Text.Json;
using ConfigInjector.TestSupport.Builders;

namespace ConfigInjector.TestSupport;

/// <summary>An AdmissionReview response as the API server reads it, with the patch decoded.</summary>
public sealed record ReviewResult(HttpStatusCode HttpStatus, string Body, string? Uid, bool Allowed, byte[]? Patch, string? PatchType, IReadOnlyList<string> Warnings, int? Code, string? Message)
{
    public string PatchText => Patch is null ? "" : System.Text.Encoding.UTF8.GetString(Patch);

    /// <summary>
    /// A denial as the API server shows it: HTTP 200, <c>allowed: false</c>, status code 403 and a message — not a
    /// 500, a bad-request answer or an "internal error" verdict, which must never pass for a policy decision.
    /// </summary>
    public void AssertDenied(string? containing = null)
    {
        Xunit.Assert.Equal(HttpStatusCode.OK, HttpStatus);
        Xunit.Assert.False(Allowed, "expected a denial, the pod was allowed");
        Xunit.Assert.Equal(403, Code);
        Xunit.Assert.StartsWith("configinjector: ", Message, StringComparison.Ordinal);
        Xunit.Assert.DoesNotContain("internal error", Message, StringComparison.Ordinal);
        if (containing is not null)
            Xunit.Assert.Contains(containing, Message, StringComparison.Ordinal);
    }

    public static ReviewResult Parse(HttpStatusCode status, string body)
    {
        if (status != HttpStatusCode.OK)
            return new ReviewResult(status, body, null, false, null, null, [], null, null);
        using var document = JsonDocument.Parse(body);
        var response = document.RootElement.GetProperty("response");
        var patch = response.TryGetProperty("patch", out var p) ? Convert.FromBase64String(p.GetString()!) : null;
        var warnings = response.TryGetProperty("warnings", out var w) ? w.EnumerateArray().Select(x => x.GetString()!).ToList() : [];
        var statusElement = response.TryGetProperty("status", out var s) ? s : (JsonElement?)null;
        return new ReviewResult(
            status,
            body,
            response.GetProperty("uid").GetString(),
            response.GetProperty("allowed").GetBoolean(),
            patch,
            response.TryGetProperty("patchType", out var pt) ? pt.GetString() : null,
            warnings,
            statusElement?.GetProperty("code").GetInt32(),
            statusElement is { } st && st.TryGetProperty("message", out var m) ? m.GetString() : null);
    }
}

public static class WebhookServerReviews
{
    /// <summary>Posts a review that must be well-formed: anything but HTTP 200 fails the test here, never reads as a denial.</summary>
    public static async Task<ReviewResult> ReviewAsync(this WebhookServer server, string body)
    {
        using var response = await server.PostReviewAsync(body);
        var text = await response.Content.ReadAsStringAsync();
        Xunit.Assert.True(response.StatusCode == HttpStatusCode.OK, $"expected HTTP 200 with an AdmissionReview, got {(int)response.StatusCode}: {text}");
        var result = ReviewResult.Parse(response.StatusCode, text);
        using var sent = JsonDocument.Parse(body);
        Xunit.Assert.Equal(sent.RootElement.GetProperty("request").GetProperty("uid").GetString(), result.Uid);
        return result;
    }

    public static Task<ReviewResult> ReviewPodAsync(this WebhookServer server, string podJson, string @namespace = "default", bool dryRun = false) =>
        server.ReviewAsync(AdmissionReviewBuilder.ForPod(podJson, @namespace, dryRun: dryRun));

    public static Task<ReviewResult> ReviewPodAsync(this WebhookServer server, PodBuilder pod, string @namespace = "default", bool dryRun = false) =>
        server.ReviewPodAsync(pod.ToJson(), @namespace, dryRun);
}
