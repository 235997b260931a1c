using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using ConfigInjector.TestSupport.Builders;

namespace ConfigInjector.Core.Tests.Planning;

public class ConfigProfileTests
{
    private static readonly ConfigProfile Observability = new(
        "observability",
        new ProfileSelector(["default"], new Dictionary<string, string> { ["tier"] = "backend" }),
        new Dictionary<string, string> { ["OTEL_ENDPOINT"] = "http://otel:4317", ["LOG_LEVEL"] = "info" },
        new Dictionary<string, SecretReference> { ["DB_USER"] = new("dev", "app/db", "user", null) });

    private static readonly ConfigProfile Debug = new("debug", null, new Dictionary<string, string> { ["LOG_LEVEL"] = "debug" }, new Dictionary<string, SecretReference>());

    private readonly PurePipeline _pipeline = new() { Profiles = { Observability, Debug } };

    [Fact]
    public void A_selector_applies_a_profile_to_matching_pods_only()
    {
        var matching = PodBuilder.Injected().WithLabel("tier", "backend").Build();
        var other = PodBuilder.Injected().WithLabel("tier", "frontend").WithAnnotation("configinjector.io/secret.X", "dev:app/single").Build();

        var plan = _pipeline.Plan(matching);

        Assert.Equal("http://otel:4317", plan.Env.Single(e => e.Var.Name == "OTEL_ENDPOINT").Var.Value);
        Assert.Equal("DB_USER", plan.Env.Single(e => e.Var.Name == "DB_USER").Var.ValueFrom.SecretKeyRef.Key);
        Assert.Equal("app-user", plan.Secret!.Data["DB_USER"]);
        Assert.DoesNotContain(_pipeline.Plan(other).Env, e => e.Var.Name == "OTEL_ENDPOINT");
    }

    [Fact]
    public void Container_env_beats_annotations_which_beat_profiles()
    {
        var pod = PodBuilder.Create().WithAnnotation("configinjector.io/inject", "true").WithLabel("tier", "backend")
            .WithAnnotation("configinjector.io/secret.DB_USER", "dev:app/db#password")
            .WithContainer("app", ("OTEL_ENDPOINT", "http://mine:4317"))
            .Build();

        var plan = _pipeline.Plan(pod);

        Assert.DoesNotContain(plan.Env, e => e.Var.Name == "OTEL_ENDPOINT");
        Assert.Equal("s3cret-pw", plan.Secret!.Data["DB_USER"]);
        Assert.Equal("info", plan.Env.Single(e => e.Var.Name == "LOG_LEVEL").Var.Value);
    }

    [Fact]
    public void The_pods_secrets_from_beats_a_profiles_secret_env()
    {
        var pod = PodBuilder.Injected().WithLabel("tier", "backend")
            .WithAnnotation("configinjector.io/secrets-from", "dev:app/db")
            .WithAnnotation("configinjector.io/secrets-prefix", "DB_")
            .Build();
        _pipeline.Profiles.Add(new ConfigProfile("zz-user", null, new Dictionary<string, string>(),
            new Dictionary<string, SecretReference> { ["DB_user"] = new("dev", "app/single", null, null) }));
        pod.Metadata.Annotations["configinjector.io/profiles"] = "zz-user";

        var plan = _pipeline.Plan(pod);

        Assert.Equal("app-user", plan.Secret!.Data["DB_user"]);
        Assert.Single(plan.Env, e => e.Var.Name == "DB_user");
    }

    [Fact]
    public void A_named_profile_applies_and_between_profiles_the_first_by_name_wins()
    {
        var pod = PodBuilder.Injected().WithLabel("tier", "backend").WithAnnotation("configinjector.io/profiles", "debug").Build();

        var plan = _pipeline.Plan(pod);

        Assert.Equal("debug", plan.Env.Single(e => e.Var.Name == "LOG_LEVEL").Var.Value);
        Assert.Contains("ConfigProfile observability also sets LOG_LEVEL; ConfigProfile debug wins", plan.Warnings);
    }

    [Fact]
    public void An_unknown_profile_rejects_the_pod()
    {
        var pod = PodBuilder.Injected().WithAnnotation("configinjector.io/profiles", "debgu").Build();

        Assert.Equal(["configinjector.io/profiles: ConfigProfile \"debgu\" not found (known: debug, observability)"], _pipeline.Errors(pod));
    }

    [Fact]
    public void An_unknown_profile_names_only_the_profiles_the_pods_namespace_could_use()
    {
        // observability is meant for "default" only: a pod elsewhere learns nothing of it.
        var pod = PodBuilder.Injected().WithAnnotation("configinjector.io/profiles", "debgu").Build();

        var errors = _pipeline.Errors(pod, "payments");

        Assert.Contains("configinjector.io/profiles: ConfigProfile \"debgu\" not found (known: debug)", errors);
        Assert.DoesNotContain(errors, e => e.Contains("observability", StringComparison.Ordinal));
    }

    [Fact]
    public void A_profiles_secret_env_is_subject_to_policy()
    {
        var pod = PodBuilder.Injected().InNamespace("payments").WithAnnotation("configinjector.io/profiles", "observability").Build();

        Assert.Equal(["namespace payments, service account default: no SecretPolicy allows dev:app/db#user"], _pipeline.Errors(pod, "payments"));
    }
}
