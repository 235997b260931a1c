using System.Net;
using System.Text.Json;
using ConfigInjector.TestSupport.Builders;

namespace ConfigInjector.TestSupport;

/// <summary>An AdmissionReview response as the API server reads it, with the patch decoded.</summary>
public sealed record ReviewResult(HttpStatusCode HttpStatus, string Body, string? Uid, bool Allowed, byte[]? Patch, string? PatchType, IReadOnlyList<string> Warnings, int? Code, string? Message)
{
    public string PatchText => Patch is null ? "" : System.Text.Encoding.UTF8.GetString(Patch);

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
    public static async Task<ReviewResult> ReviewAsync(this WebhookServer server, string body)
    {
        using var response = await server.PostReviewAsync(body);
        return ReviewResult.Parse(response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public static Task<ReviewResult> ReviewPodAsync(this WebhookServer server, string podJson, string @namespace = "default", bool dryRun = false) =>
        server.ReviewAsync(AdmissionReviewBuilder.ForPod(podJson, @namespace, dryRun: dryRun));

    public static Task<ReviewResult> ReviewPodAsync(this WebhookServer server, PodBuilder pod, string @namespace = "default", bool dryRun = false) =>
        server.ReviewPodAsync(pod.ToJson(), @namespace, dryRun);
}
