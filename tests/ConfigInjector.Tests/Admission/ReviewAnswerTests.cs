using System.Text;
using System.Text.Json;
using ConfigInjector.Admission;
using Microsoft.AspNetCore.Http;

namespace ConfigInjector.Tests.Admission;

/// <summary>
/// The endpoint writes its answer with <see cref="ReviewAnswer"/>; the source-generated <see cref="AdmissionJson"/>
/// serialization of the same <see cref="AdmissionReview"/> is the reference it must equal byte for byte.
/// </summary>
public class ReviewAnswerTests
{
    public static TheoryData<string> Verdicts => [.. Cases.Keys];

    private static readonly Dictionary<string, AdmissionVerdict> Cases = new()
    {
        ["pass"] = AdmissionVerdict.Pass([]),
        ["pass with warnings that need escapes"] = AdmissionVerdict.Pass(["<b>&'\"+\\ é € 😀 \u2028", "second"]),
        ["injected"] = AdmissionVerdict.Injected(Encoding.UTF8.GetBytes("""[{"op":"add","path":"/a","value":"x"}]"""), ["kept its own value"]),
        ["injected, a patch whose base64 is padded"] = AdmissionVerdict.Injected([1, 2, 3, 4, 250, 251, 252, 253], []),
        ["denied"] = AdmissionVerdict.Deny(["no SecretPolicy allows dev:app/db#user", "<second> & \"third\""], ["w"]),
        ["failure"] = AdmissionVerdict.Failure("configinjector: internal error 1234abcd; see the webhook log"),
    };

    [Theory]
    [MemberData(nameof(Verdicts))]
    public async Task The_written_answer_equals_the_serialized_review_byte_for_byte(string verdict)
    {
        const string uid = "705ab4f5-6393-11e8-b7cc-42010a800002<&>";
        var context = new DefaultHttpContext();
        using var body = new MemoryStream();
        context.Response.Body = body;

        ReviewAnswer.WriteTo(context.Response, uid, Cases[verdict]);
        await context.Response.BodyWriter.FlushAsync();

        var expected = Serialized(uid, Cases[verdict]);
        Assert.Equal(expected, Encoding.UTF8.GetString(body.ToArray()));
        Assert.Equal(Encoding.UTF8.GetByteCount(expected), context.Response.ContentLength);
        Assert.Equal("application/json", context.Response.ContentType);
    }

    /// <summary>What the endpoint wrote before: the response objects through the source-generated context.</summary>
    private static string Serialized(string uid, AdmissionVerdict verdict)
    {
        var response = new AdmissionResponse
        {
            Uid = uid,
            Allowed = verdict.Allowed,
            Warnings = verdict.Warnings.Count > 0 ? verdict.Warnings : null,
            Status = verdict.Code is { } code ? new AdmissionStatus { Code = code, Message = verdict.Message } : null,
        };
        if (verdict.Patch is not null)
        {
            response.PatchType = "JSONPatch";
            response.Patch = Convert.ToBase64String(verdict.Patch);
        }
        var review = new AdmissionReview { ApiVersion = "admission.k8s.io/v1", Kind = "AdmissionReview", Response = response };
        return JsonSerializer.Serialize(review, AdmissionJson.Default.AdmissionReview);
    }
}
