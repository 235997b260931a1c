using System.Diagnostics;
using System.Globalization;
using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.References;
using ConfigInjector.Manifests;
using ConfigInjector.Policies;
using ConfigInjector.TestSupport;
using YamlDotNet.Core;

namespace ConfigInjector.Tests.Fuzzing;

/// <summary>
/// A bounded fuzz run in every test run (FUZZ_SECONDS, default 20, per target; FUZZ_SEED to replay): generated
/// AdmissionReviews against the real host over TLS, and the parsers directly. No input may get a 5xx, reach the
/// catch-all ("internal error"), take the process down, or bring a secret value into a response or the log.
/// <c>tests/fuzz.sh</c> runs it for longer.
/// </summary>
public class AdmissionFuzzTests
{
    private static TimeSpan Budget => TimeSpan.FromSeconds(double.Parse(Environment.GetEnvironmentVariable("FUZZ_SECONDS") ?? "20", CultureInfo.InvariantCulture));

    private static int Seed => int.TryParse(Environment.GetEnvironmentVariable("FUZZ_SEED"), out var seed) ? seed : Environment.TickCount;

    [Fact]
    public async Task Generated_reviews_never_get_a_5xx_an_internal_error_or_a_value()
    {
        var seed = Seed;
        var generator = new ReviewGenerator(seed);
        await using var server = await WebhookServer.StartAsync(WebhookFixture.PinExampleVersions);
        var leaks = new LeakScan(DevSecrets.Values(Path.Combine(server.WorkDir, "examples", "dev-secrets.yaml")));
        var clock = Stopwatch.StartNew();
        var inputs = 0;
        var patched = 0;
        while (clock.Elapsed < Budget)
        {
            var body = generator.Next();
            inputs++;
            using var response = await server.PostReviewAsync(body);
            var text = await response.Content.ReadAsStringAsync();
            var context = $"seed {seed}, input {inputs}: HTTP {(int)response.StatusCode} {text[..Math.Min(300, text.Length)]}";
            Assert.True((int)response.StatusCode is 200 or 400 or 413, context);
            Assert.DoesNotContain("internal error", text, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
            var leak = leaks.FindInResponse(text);
            Assert.True(leak is null, $"{context}: a secret value in the response: {leak}");
            if (text.Contains("\"patch\"", StringComparison.Ordinal))
                patched++;
        }
        var log = server.AllLogText();
        Assert.DoesNotContain("internal error", log, StringComparison.Ordinal);
        Assert.Null(leaks.FindInText(log));
        Console.WriteLine($"fuzz: {inputs} reviews in {clock.Elapsed.TotalSeconds:0}s, {patched} with a patch (seed {seed})");
        Assert.True(inputs > 100, $"only {inputs} inputs ran");
        // The leak check decodes patches: a run in which no review was injected would not have exercised it.
        Assert.True(patched > 0, $"none of {inputs} answers carried a patch (seed {seed})");
    }

    [Fact]
    public void Generated_annotations_refs_policies_and_manifests_never_throw_outside_their_error_types()
    {
        var seed = Seed;
        var random = new Random(seed);
        var generator = new ReviewGenerator(seed);
        var clock = Stopwatch.StartNew();
        var inputs = 0;
        while (clock.Elapsed < Budget)
        {
            var pod = PodOf(generator.Next());
            var annotations = (Child(Child(pod, "metadata"), "annotations") as System.Text.Json.Nodes.JsonObject)?
                .Where(a => a.Value is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<string>(out _))
                .ToDictionary(a => a.Key, a => a.Value!.GetValue<string>());
            AnnotationParser.Parse(annotations);
            foreach (var value in annotations?.Values.ToList() ?? [])
                ReferenceParser.Parse(value);

            var yaml = YamlOf(random, pod?.ToJsonString() ?? "{}");
            try
            {
                YamlJson.Parse(yaml);
            }
            catch (YamlException)
            {
            }
            PolicyDocumentReader.Parse(PolicyShaped(random, yaml), "fuzz.yaml");
            inputs++;
        }
        Console.WriteLine($"fuzz: {inputs} parser inputs in {clock.Elapsed.TotalSeconds:0}s (seed {seed})");
        Assert.True(inputs > 100, $"only {inputs} inputs ran (seed {seed})");
    }

    private static System.Text.Json.Nodes.JsonNode? PodOf(string review)
    {
        try
        {
            return Child(Child(System.Text.Json.Nodes.JsonNode.Parse(review), "request"), "object");
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static System.Text.Json.Nodes.JsonNode? Child(System.Text.Json.Nodes.JsonNode? node, string name) =>
        node is System.Text.Json.Nodes.JsonObject obj ? obj[name] : null;

    private const string Mutations = "|>&*!-:{}[]#\n \t'\"";

    private static string YamlOf(Random random, string json)
    {
        var chars = json.ToCharArray();
        for (var i = random.Next(0, 4); i > 0; i--)
            chars[random.Next(chars.Length)] = Mutations[random.Next(Mutations.Length)];
        return new string(chars);
    }

    private static string PolicyShaped(Random random, string noise) => random.Next(3) switch
    {
        0 => "apiVersion: configinjector.io/v1alpha1\nkind: SecretPolicy\nmetadata: { name: p }\nspec:\n  subjects: { namespaces: [\"*\"] }\n  rules: [ { backend: dev, paths: [\"" + noise[..Math.Min(noise.Length, 40)].Replace("\"", "", StringComparison.Ordinal) + "\"] } ]\n",
        1 => "apiVersion: configinjector.io/v1alpha1\nkind: ConfigProfile\nmetadata: { name: p }\nspec: " + noise,
        _ => noise,
    };
}
