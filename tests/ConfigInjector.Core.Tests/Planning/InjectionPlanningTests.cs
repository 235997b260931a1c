using ConfigInjector.Core.Planning;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.Secrets;
using ConfigInjector.TestSupport.Builders;

namespace ConfigInjector.Core.Tests.Planning;

public class InjectionPlanningTests
{
    private readonly PurePipeline _pipeline = new();

    [Fact]
    public void Secret_env_goes_through_the_managed_secret_and_the_marker_lists_refs_with_versions()
    {
        var pod = PodBuilder.Injected().WithAnnotation("configinjector.io/secret.DB_PASSWORD", "dev:app/db#password").Build();

        var plan = _pipeline.Plan(pod);

        var change = Assert.Single(plan.Env);
        Assert.Null(change.Var.Value);
        Assert.Equal(plan.Secret!.Name, change.Var.ValueFrom.SecretKeyRef.Name);
        Assert.Equal("DB_PASSWORD", change.Var.ValueFrom.SecretKeyRef.Key);
        Assert.Equal("s3cret-pw", plan.Secret.Data["DB_PASSWORD"]);
        Assert.Equal(new KeySource("dev:app/db#password", "3"), plan.Secret.Sources["DB_PASSWORD"]);
        Assert.Equal("dev:app/db#password@3", plan.InjectedAnnotation);
    }

    [Fact]
    public void Config_from_a_non_sensitive_backend_is_a_plain_value_and_from_a_sensitive_one_a_secret_with_a_warning()
    {
        _pipeline.Documents["cfg"] = new SecretDocument("2", new Dictionary<string, string> { ["level"] = "info" });
        var pod = PodBuilder.Injected()
            .WithAnnotation("configinjector.io/config.PLAIN", "config:cfg#level")
            .WithAnnotation("configinjector.io/config.GUARDED", "dev:app/settings#LOG_LEVEL")
            .Build();

        var plan = _pipeline.Plan(pod);

        Assert.Equal("info", plan.Env.Single(e => e.Var.Name == "PLAIN").Var.Value);
        Assert.NotNull(plan.Env.Single(e => e.Var.Name == "GUARDED").Var.ValueFrom);
        Assert.Equal(["configinjector.io/config.GUARDED: backend dev is sensitive; delivered through the managed Secret"], plan.Warnings);
        Assert.False(plan.Secret!.Data.ContainsKey("PLAIN"));
    }

    [Fact]
    public void Env_the_container_sets_wins_unless_override()
    {
        var pod = PodBuilder.Create().WithAnnotation("configinjector.io/inject", "true")
            .WithAnnotation("configinjector.io/secret.DB_USER", "dev:app/db#user")
            .WithContainer("app", ("DB_USER", "local"))
            .Build();

        var kept = _pipeline.Plan(pod);
        Assert.Empty(kept.Env);
        Assert.Equal(["container app already sets DB_USER; kept its own value (configinjector.io/override: \"true\" replaces it)"], kept.Warnings);

        pod.Metadata.Annotations["configinjector.io/override"] = "true";
        var replaced = _pipeline.Plan(pod);
        Assert.Equal(0, Assert.Single(replaced.Env).ReplaceIndex);
    }

    [Fact]
    public void Inline_env_values_are_resolved_in_place_in_any_container()
    {
        var pod = PodBuilder.Injected()
            .WithInitContainer("migrate", ("PORT", "1"), ("DB_PASSWORD", "configinjector:dev:app/db#password"))
            .Build();

        var plan = _pipeline.Plan(pod);

        var change = Assert.Single(plan.Env);
        Assert.Equal(ContainerKind.Init, change.Container.Kind);
        Assert.Equal(1, change.ReplaceIndex);
        Assert.Equal("DB_PASSWORD", change.Var.ValueFrom.SecretKeyRef.Key);
    }

    [Fact]
    public void Secrets_from_expands_every_key_with_the_prefix_and_explicit_annotations_win()
    {
        var pod = PodBuilder.Injected()
            .WithAnnotation("configinjector.io/secrets-from", "dev:app/db")
            .WithAnnotation("configinjector.io/secrets-prefix", "DB_")
            .WithAnnotation("configinjector.io/secret.DB_user", "dev:app/single")
            .Build();

        var plan = _pipeline.Plan(pod);

        Assert.Equal(["DB_user", "DB_password"], plan.Env.Select(e => e.Var.Name));
        Assert.Equal("only-value", plan.Secret!.Data["DB_user"]);
        Assert.Equal("s3cret-pw", plan.Secret.Data["DB_password"]);
    }

    [Fact]
    public void Secrets_from_warns_about_keys_that_are_not_env_names()
    {
        var pod = PodBuilder.Injected().WithAnnotation("configinjector.io/secrets-from", "dev:app/settings").Build();

        var plan = _pipeline.Plan(pod);

        Assert.Equal(["LOG_LEVEL"], plan.Env.Select(e => e.Var.Name));
        Assert.Equal(["configinjector.io/secrets-from: key \"bad-name\" of dev:app/settings is not a valid environment variable name; not injected"], plan.Warnings);
    }

    [Fact]
    public void A_pod_pins_at_most_a_few_versions_of_one_path_before_anything_is_read()
    {
        // Policies decide paths, not versions: 500 pinned versions of one allowed path would be 500 backend reads.
        var pod = PodBuilder.Injected();
        for (var i = 1; i <= 500; i++)
            pod = pod.WithAnnotation($"configinjector.io/secret.V{i}", $"dev:app/db#password@{i}");

        var (plan, prepared, _) = _pipeline.Run(pod.Build());

        Assert.Null(plan);
        Assert.Equal(["the pod pins 500 versions of dev:app/db; at most 4 versions of one path are read for one pod"], prepared.Errors);
        var fewer = PodBuilder.Injected().WithAnnotation("configinjector.io/secret.OLD", "dev:app/db#password@3").WithAnnotation("configinjector.io/secret.NEW", "dev:app/db#password").Build();
        Assert.Empty(_pipeline.Errors(fewer));
    }

    [Fact]
    public void Secrets_from_checks_each_key_against_the_policy()
    {
        _pipeline.Policies.Clear();
        _pipeline.Policies.Add(new SecretPolicy("only-user", new PolicySubjects(["default"], null), [new PolicyRule("dev", ["app/db"], ["user"])], RotationSettings.Default, BackendErrorMode.Deny));
        var pod = PodBuilder.Injected().WithAnnotation("configinjector.io/secrets-from", "dev:app/db").Build();

        var (plan, _, _) = _pipeline.Run(pod);

        Assert.True(plan!.PolicyDenied);
        // The denial names the keys the pod may read, never the one it may not.
        Assert.Equal(["configinjector.io/secrets-from: namespace default, service account default: no SecretPolicy allows every key of dev:app/db, and all of them are read (you may read: user)"], plan.Errors);
    }

    [Fact]
    public void Secrets_from_does_not_lift_the_key_rule_from_a_keyless_ref_to_the_same_path()
    {
        _pipeline.Policies.Clear();
        _pipeline.Policies.Add(new SecretPolicy("public-only", new PolicySubjects(["default"], null), [new PolicyRule("dev", ["app/**"], ["public-*"])], RotationSettings.Default, BackendErrorMode.Deny));
        var pod = PodBuilder.Injected()
            .WithAnnotation("configinjector.io/secrets-from", "dev:app/single")
            .WithAnnotation("configinjector.io/secret.K", "dev:app/single")
            .Build();

        var (plan, prepared, _) = _pipeline.Run(pod);

        Assert.Null(plan);
        Assert.Equal(["namespace default, service account default: no SecretPolicy allows dev:app/single"], prepared.Errors);
    }

    [Theory]
    [InlineData("dev:app/missing#x", "dev:app/missing#x: not found: no path \"app/missing\"")]
    [InlineData("dev:app/db#nope", "dev:app/db#nope: the path has no key \"nope\" (you may read: password, user)")]
    [InlineData("dev:app/db", "dev:app/db: the path holds 2 keys (you may read: password, user); name one with #<key>")]
    [InlineData("dev:app/db#user@2", "dev:app/db#user@2: not found: no version 2")]
    [InlineData("vault:secret/x#y", "vault:secret/x#y: backend \"vault\" is not configured (configured: config, dev)")]
    public void Unresolvable_refs_reject_the_pod_with_a_reason(string reference, string error)
    {
        var pod = PodBuilder.Injected().WithAnnotation("configinjector.io/secret.X", reference).Build();

        Assert.Equal([error], _pipeline.Errors(pod));
    }

    [Fact]
    public void A_ref_without_key_takes_the_only_value_of_a_single_valued_secret()
    {
        var pod = PodBuilder.Injected().WithAnnotation("configinjector.io/secret.TOKEN", "dev:app/single").Build();

        Assert.Equal("only-value", _pipeline.Plan(pod).Secret!.Data["TOKEN"]);
    }

    [Theory]
    [InlineData(BackendErrorMode.Deny, false, "dev:app/db#user: backend error: sealed")]
    [InlineData(BackendErrorMode.Deny, true, "dev:app/db#user: backend error: sealed")]
    [InlineData(BackendErrorMode.AllowStale, false, "dev:app/db#user: backend error: sealed (no last-known-good value)")]
    public void Backend_errors_deny_when_the_policy_says_so_or_nothing_stale_exists(BackendErrorMode mode, bool stale, string error)
    {
        SetMode(mode);
        _pipeline.Failures["app/db"] = SecretRead.Failed(new("dev", "app/db", null), "sealed", stale ? _pipeline.Documents["app/db"] : null);
        var pod = PodBuilder.Injected().WithAnnotation("configinjector.io/secret.U", "dev:app/db#user").Build();

        Assert.Equal([error], _pipeline.Errors(pod));
    }

    [Fact]
    public void Allow_stale_uses_the_last_known_good_value_with_a_warning()
    {
        SetMode(BackendErrorMode.AllowStale);
        _pipeline.Failures["app/db"] = SecretRead.Failed(new("dev", "app/db", null), "sealed", _pipeline.Documents["app/db"], TimeSpan.FromMinutes(3));
        var pod = PodBuilder.Injected().WithAnnotation("configinjector.io/secret.U", "dev:app/db#user").Build();

        var plan = _pipeline.Plan(pod);

        Assert.Equal("app-user", plan.Secret!.Data["U"]);
        Assert.Equal(["dev:app/db#user: backend error (sealed); using the last-known-good value (onBackendError: allow-stale)"], plan.Warnings);
    }

    [Fact]
    public void Skip_admits_without_the_value_and_says_so()
    {
        SetMode(BackendErrorMode.Skip);
        _pipeline.Failures["app/db"] = SecretRead.Failed(new("dev", "app/db", null), "sealed");
        var pod = PodBuilder.Injected()
            .WithAnnotation("configinjector.io/secret.U", "dev:app/db#user")
            .WithAnnotation("configinjector.io/secret.T", "dev:app/single")
            .Build();

        var plan = _pipeline.Plan(pod);

        Assert.Equal(["T"], plan.Env.Select(e => e.Var.Name));
        Assert.Equal(["dev:app/db#user: backend error (sealed); not injected (onBackendError: skip)"], plan.Warnings);
        Assert.Equal("dev:app/single@1", plan.InjectedAnnotation);
    }

    [Theory]
    [InlineData("worker", "configinjector.io/containers: no container named \"worker\" (containers: app, init)")]
    [InlineData("init", "configinjector.io/containers: \"init\" is an init container; set configinjector.io/init-containers: \"true\" to inject it")]
    public void Containers_must_exist(string containers, string error)
    {
        var pod = PodBuilder.Injected().WithInitContainer("init")
            .WithAnnotation("configinjector.io/containers", containers)
            .WithAnnotation("configinjector.io/secret.U", "dev:app/db#user").Build();

        Assert.Equal([error], _pipeline.Errors(pod));
    }

    [Fact]
    public void Init_containers_are_targets_only_when_asked()
    {
        var pod = PodBuilder.Injected().WithInitContainer("init").WithAnnotation("configinjector.io/secret.U", "dev:app/db#user").Build();

        Assert.Equal(["app"], _pipeline.Plan(pod).Env.Select(e => e.Container.Name));

        pod.Metadata.Annotations["configinjector.io/init-containers"] = "true";
        Assert.Equal(["init", "app"], _pipeline.Plan(pod).Env.Select(e => e.Container.Name));
    }

    [Fact]
    public void Files_refuse_a_directory_the_container_already_mounts()
    {
        var pod = PodBuilder.Injected().WithAnnotation("configinjector.io/file.ca", "dev:app/single").Build();
        pod.Spec.Containers[0].VolumeMounts = [new k8s.Models.V1VolumeMount { Name = "certs", MountPath = "/var/run/configinjector" }];

        Assert.Equal(["container app already mounts certs at /var/run/configinjector; set configinjector.io/files-dir to another directory"], _pipeline.Errors(pod));
    }

    [Fact]
    public void Pods_of_one_replicaset_share_one_secret_name_and_other_refs_get_another()
    {
        var a = PodBuilder.Injected("").OwnedByReplicaSet("web-5d8").WithAnnotation("configinjector.io/secret.U", "dev:app/db#user").Build();
        var b = PodBuilder.Injected("").OwnedByReplicaSet("web-5d8").WithAnnotation("configinjector.io/secret.U", "dev:app/db#user").Build();
        var c = PodBuilder.Injected("").OwnedByReplicaSet("web-5d8").WithAnnotation("configinjector.io/secret.U", "dev:app/db#password").Build();

        var nameA = _pipeline.Plan(a).Secret!.Name;

        Assert.StartsWith("configinjector-web-5d8-", nameA, StringComparison.Ordinal);
        Assert.Equal(nameA, _pipeline.Plan(b).Secret!.Name);
        Assert.NotEqual(nameA, _pipeline.Plan(c).Secret!.Name);
    }

    [Fact]
    public void A_value_never_appears_in_the_marker_or_the_env_vars()
    {
        var pod = PodBuilder.Injected()
            .WithAnnotation("configinjector.io/secret.P", "dev:app/db#password")
            .WithAnnotation("configinjector.io/file.pw", "dev:app/db#password").Build();

        var plan = _pipeline.Plan(pod);

        Assert.DoesNotContain("s3cret-pw", plan.InjectedAnnotation, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-pw", string.Join("\n", plan.Env.Select(e => k8s.KubernetesJson.Serialize(e.Var))), StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-pw", plan.Secret!.ToString(), StringComparison.Ordinal);
    }

    private void SetMode(BackendErrorMode mode)
    {
        _pipeline.Policies.Clear();
        _pipeline.Policies.Add(PurePipeline.AllowAllInDefault with { OnBackendError = mode });
    }
}
