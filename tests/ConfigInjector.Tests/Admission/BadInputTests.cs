using System.Net;
using System.Text;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Builders;

namespace ConfigInjector.Tests.Admission;

/// <summary>Bad input gets HTTP 400 (413 when too large) with a one-line reason; never a 500 or a stack trace, and the server keeps serving.</summary>
public class BadInputTests(WebhookFixture fixture) : IClassFixture<WebhookFixture>
{
    private static string Review(string request) => $$"""{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{{request}}}""";

    private static readonly string PodJson = PodBuilder.Injected().ToJson();

    public static TheoryData<string, string, string> Cases => new()
    {
        { "not json", "hello", "the body is not a valid AdmissionReview JSON document: 'h' is an invalid start of a value." },
        { "truncated", Review("""{"uid":"1","kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE","object":""" + PodJson + "}")[..60], "the body is not a valid AdmissionReview JSON document:" },
        { "empty", "", "the body is empty; expected an AdmissionReview" },
        { "json null", "null", "the body is JSON null, not an AdmissionReview" },
        { "array", "[]", "the body is not a valid AdmissionReview JSON document:" },
        { "wrong apiVersion", """{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"1"}}""", "expected apiVersion admission.k8s.io/v1 and kind AdmissionReview, got \"admission.k8s.io/v1beta1\" \"AdmissionReview\"" },
        { "wrong kind", """{"apiVersion":"admission.k8s.io/v1","kind":"Pod"}""", "expected apiVersion admission.k8s.io/v1 and kind AdmissionReview, got \"admission.k8s.io/v1\" \"Pod\"" },
        { "missing request", """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}""", "the AdmissionReview has no request" },
        { "missing uid", Review("""{"kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE"}"""), "request.uid is missing" },
        { "null object", Review("""{"uid":"1","kind":{"group":"","version":"v1","kind":"Pod"},"namespace":"default","operation":"CREATE","object":null}"""), "request.object is missing or not a JSON object" },
        { "no object", Review("""{"uid":"1","kind":{"group":"","version":"v1","kind":"Pod"},"namespace":"default","operation":"CREATE"}"""), "request.object is missing or not a JSON object" },
        { "deployment", Review("""{"uid":"1","kind":{"group":"apps","version":"v1","kind":"Deployment"},"operation":"CREATE","object":{}}"""), "request.kind is apps/v1 Deployment; this webhook mutates only v1 Pod" },
        { "no kind", Review("""{"uid":"1","operation":"CREATE","object":{}}"""), "request.kind is missing; this webhook mutates only v1 Pod" },
        { "object of another kind", Review("""{"uid":"1","kind":{"group":"","version":"v1","kind":"Pod"},"namespace":"default","operation":"CREATE","object":{"apiVersion":"v1","kind":"Service","metadata":{"name":"x"}}}"""), "request.object.kind is Service; this webhook mutates only Pods" },
        { "object not a pod", Review("""{"uid":"1","kind":{"group":"","version":"v1","kind":"Pod"},"namespace":"default","operation":"CREATE","object":{"spec":{"containers":"nope"}}}"""), "request.object is not a valid Pod:" },
        { "bad quantity", Review("""{"uid":"1","kind":{"group":"","version":"v1","kind":"Pod"},"namespace":"default","operation":"CREATE","object":{"metadata":{"name":"x","annotations":{"configinjector.io/inject":"true"}},"spec":{"containers":[{"name":"a","resources":{"limits":{"cpu":"lots"}}}]}}}"""), "request.object is not a valid Pod:" },
        { "bad date", Review("""{"uid":"1","kind":{"group":"","version":"v1","kind":"Pod"},"namespace":"default","operation":"CREATE","object":{"metadata":{"name":"x","creationTimestamp":"yesterday"},"spec":{"containers":[]}}}"""), "request.object is not a valid Pod:" },
        { "annotations not strings", Review("""{"uid":"1","kind":{"group":"","version":"v1","kind":"Pod"},"namespace":"default","operation":"CREATE","object":{"metadata":{"name":"x","annotations":{"configinjector.io/inject":true}},"spec":{"containers":[]}}}"""), "request.object is not a valid Pod:" },
        { "wrong field type", Review("""{"uid":7,"kind":{"group":"","version":"v1","kind":"Pod"}}"""), "the body is not a valid AdmissionReview JSON document:" },
        { "null env entry", Review("""{"uid":"1","kind":{"group":"","version":"v1","kind":"Pod"},"namespace":"default","operation":"CREATE","object":{"metadata":{"name":"x","annotations":{"configinjector.io/inject":"true"}},"spec":{"containers":[{"name":"a","env":[null]}]}}}"""), "request.object is not a valid Pod: spec.containers[0].env[0] is null" },
        { "null container", Review("""{"uid":"1","kind":{"group":"","version":"v1","kind":"Pod"},"namespace":"default","operation":"CREATE","object":{"metadata":{"name":"x"},"spec":{"containers":[null]}}}"""), "request.object is not a valid Pod: spec.containers[0] is null" },
        { "nameless env entry", Review("""{"uid":"1","kind":{"group":"","version":"v1","kind":"Pod"},"namespace":"default","operation":"CREATE","object":{"metadata":{"name":"x"},"spec":{"initContainers":[{"name":"i","env":[{"value":"configinjector:dev:app/db#user"}]}],"containers":[]}}}"""), "request.object is not a valid Pod: spec.initContainers[0].env[0].name is missing" },
        { "mount without path", Review("""{"uid":"1","kind":{"group":"","version":"v1","kind":"Pod"},"namespace":"default","operation":"CREATE","object":{"metadata":{"name":"x"},"spec":{"containers":[{"name":"a","volumeMounts":[{"name":"v"}]}]}}}"""), "request.object is not a valid Pod: spec.containers[0].volumeMounts[0] has no mountPath" },
        { "null owner", Review("""{"uid":"1","kind":{"group":"","version":"v1","kind":"Pod"},"namespace":"default","operation":"CREATE","object":{"metadata":{"name":"x","ownerReferences":[null]},"spec":{"containers":[]}}}"""), "request.object is not a valid Pod: metadata.ownerReferences[0] is null" },
        { "no namespace", Review("""{"uid":"1","kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"},"spec":{"containers":[]}}}"""), "request.namespace is missing" },
        { "deep nesting", Review("""{"uid":"1","kind":{"group":"","version":"v1","kind":"Pod"},"namespace":"default","operation":"CREATE","object":""" + string.Concat(Enumerable.Repeat("""{"a":""", 200)) + "1" + new string('}', 200) + "}"), "the body is not a valid AdmissionReview JSON document: The maximum configured depth of 64 has been exceeded" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Bad_input_gets_400_with_a_one_line_reason(string name, string body, string reason)
    {
        using var response = await fixture.Server.PostReviewAsync(body);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{name}: HTTP {(int)response.StatusCode} {text}");
        Assert.StartsWith(reason, text, StringComparison.Ordinal);
        Assert.Single(text.TrimEnd('\n').Split('\n'));
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
        await AssertStillServing();
    }

    [Fact]
    public async Task An_oversize_body_gets_413_and_the_server_keeps_serving()
    {
        var annotation = new string('a', 4 * 1024 * 1024);
        var huge = Review("{\"uid\":\"1\",\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},\"namespace\":\"default\",\"operation\":\"CREATE\",\"object\":{\"metadata\":{\"annotations\":{\"x\":\"" + annotation + "\"}}}}");

        // Like curl for large bodies: wait for "100 Continue", so the early 413 can be read before the upload.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/mutate-pods") { Content = new StringContent(huge, Encoding.UTF8, "application/json") };
        request.Headers.ExpectContinue = true;
        using var response = await fixture.Server.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("the body is larger than 3145728 bytes\n", await response.Content.ReadAsStringAsync());
        await AssertStillServing();
    }

    [Fact]
    public async Task A_chunked_oversize_body_without_length_gets_413()
    {
        var content = new PushStreamContent(4 * 1024 * 1024);

        using var response = await fixture.Server.Client.PostAsync("/mutate-pods", content);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        await AssertStillServing();
    }

    [Theory]
    [InlineData("UPDATE", "")]
    [InlineData("DELETE", "")]
    [InlineData("CREATE", "ephemeralcontainers")]
    public async Task Requests_that_are_well_formed_but_not_for_us_are_allowed_unchanged(string operation, string subResource)
    {
        var pod = PodBuilder.Injected().WithAnnotation("configinjector.io/secret.X", "dev:app/db#user").ToJson();
        var body = Review($$"""{"uid":"abc","kind":{"group":"","version":"v1","kind":"Pod"},"namespace":"default","operation":"{{operation}}","subResource":"{{subResource}}","object":""" + pod + "}");

        var review = await fixture.Server.ReviewAsync(body);

        Assert.Equal(HttpStatusCode.OK, review.HttpStatus);
        Assert.Equal("abc", review.Uid);
        Assert.True(review.Allowed);
        Assert.Null(review.Patch);
    }

    private const string Mangles = "{}[]\",:0a \\";

    [Fact]
    public async Task Mangled_reviews_never_get_a_500()
    {
        var valid = File.ReadAllText(RepoPaths.Combine("examples", "admission-review.json"));
        var random = new Random(20261126);
        var statuses = new HashSet<HttpStatusCode>();
        for (var i = 0; i < 150; i++)
        {
            var chars = valid.ToCharArray();
            for (var flips = random.Next(1, 4); flips > 0; flips--)
                chars[random.Next(chars.Length)] = Mangles[random.Next(Mangles.Length)];
            var body = new string(chars)[..random.Next(chars.Length / 2, chars.Length + 1)];

            using var response = await fixture.Server.PostReviewAsync(body);

            statuses.Add(response.StatusCode);
            Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.BadRequest, $"HTTP {(int)response.StatusCode} for: {body}");
        }
        Assert.Contains(HttpStatusCode.BadRequest, statuses);
        await AssertStillServing();
    }

    private async Task AssertStillServing()
    {
        var review = await fixture.Server.ReviewPodAsync(PodBuilder.Injected().WithAnnotation("configinjector.io/secret.U", "dev:app/db#user"));
        Assert.True(review.Allowed);
        Assert.NotNull(review.Patch);
    }

    /// <summary>A body sent chunked, with no Content-Length, so only the streaming limit can stop it.</summary>
    private sealed class PushStreamContent(int size) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            var chunk = Encoding.ASCII.GetBytes(new string('a', 64 * 1024));
            try
            {
                for (var sent = 0; sent < size; sent += chunk.Length)
                    await stream.WriteAsync(chunk);
            }
            catch (IOException)
            {
                // The server may stop reading once the limit is hit.
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
