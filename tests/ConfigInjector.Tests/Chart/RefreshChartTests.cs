using System.Text.Json.Nodes;
using ConfigInjector.TestSupport;

namespace ConfigInjector.Tests.Chart;

/// <summary>
/// The chart's <c>refresh</c> values, rendered by the real Helm: off by default; on, the serve flag names the people and
/// the file where the shared secret's Secret is mounted (whole, so the kubelet updates it); RBAC grants TokenReviews only
/// when tokens are used; and wrong values are refused before anything is installed.
/// </summary>
public class RefreshChartTests
{
    private static readonly string[] On = ["--set", "refresh.enabled=true", "--set", "refresh.access=group:deployers", "--set", "refresh.secretName=event-grid-delivery", "--set", "refresh.secretKey=bearer"];

    private static bool GrantsTokenReviews(IReadOnlyList<JsonObject> objects) =>
        objects.Single("ClusterRole")["rules"]!.AsArray().Any(r => r!["resources"]!.AsArray().Any(x => x!.GetValue<string>() == "tokenreviews"));

    [Fact]
    public async Task Off_by_default_no_flag_no_volume_no_token_reviews()
    {
        var objects = await Helm.TemplateAsync();

        Assert.DoesNotContain("--refresh-access", objects.ServeArgs());
        Assert.DoesNotContain("refresh", objects.Single("Deployment").ToJsonString(), StringComparison.Ordinal);
        Assert.False(GrantsTokenReviews(objects));
    }

    [Fact]
    public async Task On_the_flag_names_the_people_and_the_mounted_secret_file_and_serve_accepts_it()
    {
        var objects = await Helm.TemplateAsync(On);

        var access = objects.ServeArg("--refresh-access");
        Assert.Equal("group:deployers,secret-file:/var/run/configinjector/refresh/bearer", access);
        var pod = objects.Single("Deployment")["spec"]!["template"]!["spec"]!;
        var volume = pod["volumes"]!.AsArray().Single(v => v!["secret"]?["secretName"]?.GetValue<string>() == "event-grid-delivery")!;
        var mount = objects.WebhookContainer()["volumeMounts"]!.AsArray().Single(m => m!["name"]!.GetValue<string>() == volume["name"]!.GetValue<string>())!;
        Assert.Null(mount["subPath"]);
        Assert.True(mount["readOnly"]!.GetValue<bool>());
        Assert.Equal(access[(access.IndexOf("secret-file:", StringComparison.Ordinal) + "secret-file:".Length)..],
            $"{mount["mountPath"]}/{volume["secret"]!["items"]![0]!["path"]}");
        Assert.Empty(ConfigInjector.Cli.CliApp.Parse([.. objects.ServeArgs()]).Errors);
        Assert.True(GrantsTokenReviews(objects));
        var (code, output, error) = await Helm.RunAsync(["lint", "--strict", Helm.Chart, "--namespace", Helm.Namespace, .. On]);
        Assert.True(code == 0, output + error);
        Assert.All(objects.Where(KubernetesSchema.Knows), o => Assert.Null(KubernetesSchema.Problem(o)));
    }

    [Fact]
    public async Task A_shared_secret_alone_needs_no_token_reviews()
    {
        var objects = await Helm.TemplateAsync("--set", "refresh.enabled=true", "--set", "refresh.secretName=event-grid-delivery");

        Assert.Equal("secret-file:/var/run/configinjector/refresh/token", objects.ServeArg("--refresh-access"));
        Assert.False(GrantsTokenReviews(objects));
    }

    [Theory]
    [InlineData(new[] { "refresh.enabled=true" }, "refresh.enabled needs refresh.access or refresh.secretName")]
    [InlineData(new[] { "refresh.enabled=yes" }, "refresh.enabled: Invalid type")]
    [InlineData(new[] { "refresh.enabled=true", "refresh.access=everyone" }, "refresh.access: Does not match pattern")]
    [InlineData(new[] { "refresh.enabled=true", "refresh.secretName=Not_A_Name" }, "refresh.secretName: Does not match pattern")]
    [InlineData(new[] { "refresh.enable=true" }, "refresh: Additional property enable is not allowed")]
    public async Task Wrong_values_are_refused_before_install(string[] sets, string reason)
    {
        var (code, _, error) = await Helm.RunAsync(["template", "ci", Helm.Chart, .. sets.SelectMany(s => new[] { "--set", s })]);

        Assert.NotEqual(0, code);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }
}
