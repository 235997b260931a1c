using ConfigInjector.Core.Policies;
using ConfigInjector.Core.Secrets;
using ConfigInjector.Core.Templates;
using ConfigInjector.TestSupport.Builders;

namespace ConfigInjector.Core.Tests.Planning;

/// <summary>
/// Templates and formatted files through both planning steps: each ref is decided on its own, the rendered value
/// reaches the pod only through the managed Secret, and the marker lists every ref with its version.
/// </summary>
public class TemplatePlanningTests
{
    private const string Url = "postgres://${dev:app/db#user}:${dev:app/db#password | urlencode}@db:5432/app";
    private readonly PurePipeline _pipeline = new();

    public TemplatePlanningTests()
    {
        _pipeline.Documents["app/db"] = new SecretDocument("3", new Dictionary<string, string> { ["user"] = "app-user", ["password"] = "p@ss/word" });
    }

    [Fact]
    public void A_template_env_var_is_rendered_into_the_managed_secret_and_referenced_by_secret_key()
    {
        var pod = PodBuilder.Injected().WithAnnotation("configinjector.io/template.DATABASE_URL", Url).Build();

        var plan = _pipeline.Plan(pod);

        var change = Assert.Single(plan.Env);
        Assert.Null(change.Var.Value);
        Assert.Equal((plan.Secret!.Name, "DATABASE_URL"), (change.Var.ValueFrom.SecretKeyRef.Name, change.Var.ValueFrom.SecretKeyRef.Key));
        Assert.Equal("postgres://app-user:p%40ss%2Fword@db:5432/app", plan.Secret.Data["DATABASE_URL"]);
        var composed = plan.Secret.Composed["DATABASE_URL"];
        Assert.Equal(Url, composed.Template);
        Assert.Equal(new Dictionary<string, string> { ["dev:app/db#password"] = "3", ["dev:app/db#user"] = "3" }, composed.Versions);
        Assert.Empty(plan.Secret.Sources);
        Assert.Equal("dev:app/db#password@3,dev:app/db#user@3", plan.InjectedAnnotation);
    }

    [Fact]
    public void A_non_sensitive_value_mixed_with_a_sensitive_one_still_goes_through_the_secret()
    {
        _pipeline.Documents["cfg"] = new SecretDocument("2", new Dictionary<string, string> { ["host"] = "db.internal" });
        var pod = PodBuilder.Injected()
            .WithAnnotation("configinjector.io/template.DSN", "${config:cfg#host}:${dev:app/db#password}")
            .WithAnnotation("configinjector.io/template.HOST_ONLY", "host=${config:cfg#host}")
            .Build();

        var plan = _pipeline.Plan(pod);

        Assert.All(plan.Env, e => Assert.Null(e.Var.Value));
        Assert.Equal("db.internal:p@ss/word", plan.Secret!.Data["DSN"]);
        Assert.Equal("host=db.internal", plan.Secret.Data["HOST_ONLY"]);
    }

    [Fact]
    public void Each_template_ref_passes_the_policies_on_its_own_and_a_denial_names_it()
    {
        _pipeline.Policies.Clear();
        _pipeline.Policies.Add(PurePipeline.AllowAllInDefault with { Rules = [new PolicyRule("dev", ["app/*"], ["user"])] });
        var pod = PodBuilder.Injected().WithAnnotation("configinjector.io/template.DATABASE_URL", Url).Build();

        var (plan, prepared, _) = _pipeline.Run(pod);

        Assert.Null(plan);
        Assert.True(prepared.PolicyDenied);
        Assert.Equal(["namespace default, service account default: no SecretPolicy allows dev:app/db#password"], prepared.Errors);
    }

    [Fact]
    public void A_file_template_becomes_a_file_from_the_secret()
    {
        var pod = PodBuilder.Injected()
            .WithAnnotation("configinjector.io/file-template.config.json", "{\n  \"password\": ${dev:app/db#password | json},\n  \"note\": \"$${kept}\"\n}\n")
            .Build();

        var plan = _pipeline.Plan(pod);

        Assert.Empty(plan.Env);
        var item = Assert.Single(plan.FileItems);
        Assert.Equal(("file.config.json", "config.json"), (item.Key, item.Path));
        Assert.Equal("{\n  \"password\": \"p@ss/word\",\n  \"note\": \"${kept}\"\n}\n", plan.Secret!.Data["file.config.json"]);
        Assert.Equal(["app"], plan.FileMounts.Select(m => m.Name));
    }

    [Fact]
    public void A_formatted_file_holds_every_key_of_the_path_and_each_key_must_be_allowed()
    {
        var pod = PodBuilder.Injected()
            .WithAnnotation("configinjector.io/file-from.db.properties", "dev:app/db")
            .WithAnnotation("configinjector.io/file-format.db.properties", "properties")
            .Build();

        var plan = _pipeline.Plan(pod);

        Assert.Equal("password=p@ss/word\nuser=app-user\n", plan.Secret!.Data["file.db.properties"]);
        Assert.Equal(new ComposedSource(null, "dev:app/db", FileFormat.Properties, new Dictionary<string, string> { ["dev:app/db"] = "3" }).Versions, plan.Secret.Composed["file.db.properties"].Versions);
        Assert.Equal("dev:app/db@3", plan.InjectedAnnotation);

        _pipeline.Policies.Clear();
        _pipeline.Policies.Add(PurePipeline.AllowAllInDefault with { Rules = [new PolicyRule("dev", ["app/*"], ["user"])] });
        var errors = _pipeline.Errors(pod);
        Assert.Equal(["configinjector.io/file-from.db.properties: namespace default, service account default: no SecretPolicy allows every key of dev:app/db, and all of them are read (you may read: user)"], errors);
        Assert.DoesNotContain("password", errors[0], StringComparison.Ordinal);
    }

    [Fact]
    public void A_skipped_ref_leaves_its_template_out_with_a_warning()
    {
        _pipeline.Policies.Clear();
        _pipeline.Policies.Add(PurePipeline.AllowAllInDefault with { OnBackendError = BackendErrorMode.Skip });
        _pipeline.Failures["app/db"] = SecretRead.Failed(new("dev", "app/db", null), "sealed");
        _pipeline.Documents["other/host"] = new SecretDocument("1", new Dictionary<string, string> { ["name"] = "db" });
        var pod = PodBuilder.Injected()
            .WithAnnotation("configinjector.io/template.DATABASE_URL", "${dev:other/host#name}/" + Url)
            .WithAnnotation("configinjector.io/secret.T", "dev:app/single")
            .Build();

        var plan = _pipeline.Plan(pod);

        Assert.Equal(["T"], plan.Env.Select(e => e.Var.Name));
        Assert.Contains("configinjector.io/template.DATABASE_URL: not injected: a ref it needs was skipped", plan.Warnings);
        // The template's readable ref was not delivered either: the marker does not list it.
        Assert.Equal("dev:app/single@1", plan.InjectedAnnotation);
    }

    [Fact]
    public void A_rendered_value_over_the_limit_is_an_error_quoting_the_annotation()
    {
        _pipeline.Documents["big"] = new SecretDocument("1", new Dictionary<string, string> { ["v"] = new('x', 40_000) });
        var pod = PodBuilder.Injected().WithAnnotation("configinjector.io/template.BIG", "${dev:big#v}${dev:big#v}").Build();

        var errors = _pipeline.Errors(pod);

        var error = Assert.Single(errors);
        Assert.StartsWith("configinjector.io/template.BIG: ", error, StringComparison.Ordinal);
        Assert.Contains("65536", error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_secret_name_follows_what_the_template_is_made_of_not_the_values()
    {
        var pod = PodBuilder.Injected().WithAnnotation("configinjector.io/template.DATABASE_URL", Url).Build();
        var first = _pipeline.Plan(pod).Secret!.Name;
        _pipeline.Documents["app/db"] = new SecretDocument("4", new Dictionary<string, string> { ["user"] = "app-user", ["password"] = "rotated" });

        Assert.Equal(first, _pipeline.Plan(pod).Secret!.Name);
        pod.Metadata.Annotations["configinjector.io/template.DATABASE_URL"] = Url + "?sslmode=require";
        Assert.NotEqual(first, _pipeline.Plan(pod).Secret!.Name);
    }

    [Fact]
    public void Template_env_wins_over_secrets_from_and_profiles()
    {
        _pipeline.Profiles.Add(new ConfigProfile("base", null, new Dictionary<string, string> { ["user"] = "from-profile" }, new Dictionary<string, ConfigInjector.Core.References.SecretReference>()));
        var pod = PodBuilder.Injected()
            .WithAnnotation("configinjector.io/template.user", "templated-${dev:app/db#user}")
            .WithAnnotation("configinjector.io/secrets-from", "dev:app/db")
            .WithAnnotation("configinjector.io/profiles", "base")
            .Build();

        var plan = _pipeline.Plan(pod);

        Assert.Equal(["user", "password"], plan.Env.Select(e => e.Var.Name));
        Assert.Equal("templated-app-user", plan.Secret!.Data["user"]);
    }

    [Fact]
    public void Templates_together_may_not_render_more_than_a_secret_holds()
    {
        _pipeline.Documents["big"] = new SecretDocument("1", new Dictionary<string, string> { ["v"] = new('x', 60_000) });
        var pod = PodBuilder.Injected();
        for (var i = 0; i < 40; i++)
            pod.WithAnnotation($"configinjector.io/template.BIG_{i:D2}", "${dev:big#v}");

        var errors = _pipeline.Errors(pod.Build());

        Assert.Equal(["configinjector.io/template.BIG_17: the pod's templates and formatted files render more than 1048576 characters together; a Secret holds at most 1 MiB"], errors);
    }
}
