using System.Net;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Builders;

namespace ConfigInjector.Tests.Admission;

/// <summary>
/// Reviews built to stall or steer the webhook: the work per admission is bounded by Kubernetes' own annotation
/// limits, caps on what one pod may ask for, and a deadline. Each of these took from seconds to hours before.
/// (The client gives up after 30 s; how long each takes now is in bench/, not asserted here.)
/// </summary>
public class HostileInputTests(WebhookFixture fixture) : IClassFixture<WebhookFixture>
{
    [Fact]
    public async Task An_opted_in_pod_with_a_huge_unknown_key_is_denied_before_any_suggestion_is_computed()
    {
        var key = "configinjector.io/" + new string('q', 1_000_000);

        var result = await fixture.Server.ReviewPodAsync(PodBuilder.Injected().WithAnnotation(key, "x"));

        Assert.Equal(HttpStatusCode.OK, result.HttpStatus);
        result.AssertDenied();
        Assert.Equal(403, result.Code);
        Assert.StartsWith("configinjector: annotation configinjector.io/qqqq", result.Message, StringComparison.Ordinal);
        Assert.EndsWith("has a name of 1000000 characters after configinjector.io/; Kubernetes allows 63", result.Message, StringComparison.Ordinal);
        Assert.True(result.Message!.Length < 400, "the message quotes a bounded part of the key");
    }

    [Fact]
    public async Task A_pod_that_did_not_opt_in_passes_untouched_whatever_its_annotations_hold()
    {
        var pod = PodBuilder.Create().WithContainer("app").WithAnnotation("configinjector.io/" + new string('q', 1_000_000), "x");

        var result = await fixture.Server.ReviewPodAsync(pod);

        Assert.Equal(HttpStatusCode.OK, result.HttpStatus);
        Assert.True(result.Allowed);
        Assert.Null(result.Patch);
    }

    [Fact]
    public async Task Thirty_thousand_secret_annotations_exceed_the_annotation_limit_and_are_denied_with_the_size()
    {
        var pod = PodBuilder.Injected();
        for (var i = 0; i < 30_000; i++)
            pod.WithAnnotation($"configinjector.io/secret.V{i}", "dev:app/db#user");

        var result = await fixture.Server.ReviewPodAsync(pod);

        result.AssertDenied();
        Assert.Matches(@"^configinjector: the pod's annotations take \d+ bytes; Kubernetes allows 262144$", result.Message);
    }

    [Fact]
    public async Task Five_thousand_refs_within_the_limit_are_injected()
    {
        var pod = PodBuilder.Injected();
        for (var i = 0; i < 5_000; i++)
            pod.WithAnnotation($"configinjector.io/secret.V{i}", "dev:app/db#user");

        var result = await fixture.Server.ReviewPodAsync(pod);

        Assert.True(result.Allowed, result.Message);
        Assert.Equal(5_000, result.PatchText.Split("\"secretKeyRef\"").Length - 1);
    }

    [Fact]
    public async Task A_pod_whose_env_times_containers_would_explode_the_patch_is_denied()
    {
        var pod = PodBuilder.Create().WithAnnotation("configinjector.io/inject", "true");
        for (var c = 0; c < 200; c++)
            pod.WithContainer($"c{c}");
        for (var i = 0; i < 100; i++)
            pod.WithAnnotation($"configinjector.io/secret.V{i}", "dev:app/db#user");

        var result = await fixture.Server.ReviewPodAsync(pod);

        result.AssertDenied();
        Assert.Equal("configinjector: the pod asks for 100 env vars in 200 containers (20000 entries); at most 10000 are injected into one pod", result.Message);
    }

    [Fact]
    public async Task A_container_list_naming_many_containers_is_answered_with_a_bounded_message()
    {
        var pod = PodBuilder.Injected().WithAnnotation("configinjector.io/secret.A", "dev:app/db#user")
            .WithAnnotation("configinjector.io/containers", string.Join(",", Enumerable.Range(0, 20_000).Select(i => $"n{i}")));
        for (var c = 0; c < 2_000; c++)
            pod.WithContainer($"c{c}");

        var result = await fixture.Server.ReviewPodAsync(pod);

        result.AssertDenied();
        Assert.StartsWith("configinjector: configinjector.io/containers: no container named \"n0\"", result.Message, StringComparison.Ordinal);
        Assert.True(result.Message!.Length < 10_000, $"{result.Message.Length} characters");
    }

    [Fact]
    public async Task A_profiles_list_of_one_name_repeated_is_answered_with_one_reason()
    {
        var pod = PodBuilder.Injected().WithAnnotation("configinjector.io/profiles", string.Join(",", Enumerable.Repeat("nosuch", 30_000)));

        var result = await fixture.Server.ReviewPodAsync(pod);

        result.AssertDenied("configinjector.io/profiles: ConfigProfile \"nosuch\" not found (known: debug, observability)");
        Assert.Single(result.Message!.Split("not found"), p => p.Length > 0 && !p.StartsWith(" (known", StringComparison.Ordinal));
    }

    [Fact]
    public async Task More_distinct_refs_than_one_pod_may_ask_for_are_denied_before_any_policy_or_backend_work()
    {
        var pod = PodBuilder.Injected();
        for (var i = 0; i < 600; i++)
            pod.WithAnnotation($"configinjector.io/secret.V{i}", $"dev:app/p{i}#k");

        var result = await fixture.Server.ReviewPodAsync(pod);

        Assert.Equal("configinjector: the pod asks for 600 distinct refs; at most 500 are injected into one pod", result.Message);
    }
}
