using System.Text.Json.Nodes;
using ConfigInjector.Cli;
using ConfigInjector.Report;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Fakes;

namespace ConfigInjector.Tests.Report;

/// <summary>
/// <c>configinjector report</c> against the fake API server and the Vault fake during a "leaked credential" drill:
/// who reads the ref, which version each pod holds, what would bring it up to date, and the exit code a pipeline
/// waits on. Never a value in the output.
/// </summary>
public sealed class ReportCommandTests : IAsyncLifetime
{
    private ClusterEnvironment _cluster = null!;
    private ReportSpread _spread = null!;

    public async Task InitializeAsync()
    {
        _cluster = await ClusterEnvironment.StartAsync();
        _spread = await ReportSpread.CreateAsync(_cluster);
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private Task<(int Code, string Out, string Err)> Report(params string[] args) =>
        CliRunner.RunAsync(["report", "--ref", ReportSpread.Ref, "--kubeconfig", _spread.Kubeconfig, "--config", _spread.Config, .. args]);

    [Fact]
    public async Task Json_lists_each_pod_with_its_version_standing_action_and_policy_and_exits_1()
    {
        var (code, output, stderr) = await Report("--output", "json");

        Assert.Equal(ExitCodes.Failed, code);
        var report = JsonNode.Parse(output)!;
        Assert.Equal("""{"pods":7,"current":2,"stale":4,"unknown":1}""", report["summary"]!.ToJsonString());
        var rows = report["rows"]!.AsArray().Select(r => r!).ToList();
        string Row(string pod, string reference = ReportSpread.Ref + "#password")
        {
            var row = rows.Single(r => r["pod"]!.GetValue<string>() == pod && r["ref"]!.GetValue<string>() == reference);
            return string.Join(" | ", Fields.Select(f => row[f]?.ToString() ?? "null"));
        }
        Assert.Equal("shop | Deployment | checkout | env | 1 | 2 | 2 | stale | restart pending | shop-and-billing", Row("checkout-a"));
        Assert.Equal("shop | Deployment | checkout | env | 2 | 2 | 2 | current | none | shop-and-billing", Row("checkout-b"));
        Assert.Equal("shop | Deployment | reports | file | 2 | 2 | 2 | current | none | shop-and-billing", Row("reports-a"));
        Assert.Equal("shop | Pod | debug | env | 1 | 2 | 2 | stale | recreate the pod (it has no controller that restarts) | shop-and-billing", Row("debug"));
        Assert.Equal("shop | Pod | legacy | null | null | null | null | unknown | escaped injection: recreate the pod once the webhook admits it | shop-and-billing", Row("legacy"));
        Assert.Equal("billing | StatefulSet | ledger | env | 1 | 2 | 2 | stale | restart pending | shop-and-billing", Row("ledger-0"));
        Assert.Equal("billing | StatefulSet | ledger | env | 1 | 2 | 2 | stale | restart pending | shop-and-billing", Row("ledger-0", ReportSpread.Ref + "#user"));
        Assert.Equal("billing | CronJob | nightly | env | 1 | 2 | 2 | stale | recreate the pod (it has no controller that restarts) | shop-and-billing", Row("nightly-28410-x7"));
        Assert.DoesNotContain("cluster-only-", output + stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_table_groups_by_namespace_and_ends_with_the_summary()
    {
        var (code, output, _) = await Report("--namespace", "shop");
        // Kept with the page's screenshot for the README's walk-through.
        Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "report-page"));
        await File.WriteAllTextAsync(Path.Combine(AppContext.BaseDirectory, "report-page", "report-all.txt"), (await Report()).Out);

        Assert.Equal(ExitCodes.Failed, code);
        var lines = output.TrimEnd('\n').Split('\n');
        Assert.Equal(["NAMESPACE", "WORKLOAD", "POD", "REF", "DELIVERY", "POD", "VERSION*", "SECRET", "VERSION", "LATEST", "STANDING", "ACTION", "POLICY"], Words(lines[0]));
        Assert.Equal(ReportText.PodClaim, lines[^2]);
        Assert.Equal(["shop", "Deployment/checkout", "checkout-a", "vault-prod:secret/shop/db#password", "env", "1", "2", "2", "stale", "restart", "pending", "shop-and-billing"], Words(lines[1]));
        Assert.Equal("5 pods read vault-prod:secret/shop/db: 2 on the latest version, 2 on an older one, 1 unknown (not injected)", lines[^1]);
        Assert.DoesNotContain("billing ", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_secret_version_someone_edited_is_not_believed_and_the_report_says_so()
    {
        // Whoever may edit the Secret rewrites the version it records: the signature no longer covers it.
        var secret = _cluster.Api.All("secrets", "billing").First(s => s["metadata"]?["annotations"]?["configinjector.io/sources"]?.GetValue<string>().Contains("\"version\":\"", StringComparison.Ordinal) == true);
        _cluster.Api.Update("secrets", "billing", secret["metadata"]!["name"]!.GetValue<string>(), s =>
            s["metadata"]!["annotations"]!["configinjector.io/sources"] = s["metadata"]!["annotations"]!["configinjector.io/sources"]!.GetValue<string>().Replace("\"version\":\"", "\"version\":\"99", StringComparison.Ordinal));

        var (_, output, _) = await Report("--output", "json", "--namespace", "billing");

        var report = JsonNode.Parse(output)!;
        Assert.DoesNotContain("99", report["rows"]!.ToJsonString(), StringComparison.Ordinal);
        Assert.Contains(report["notes"]!.AsArray(), n => n!.GetValue<string>().StartsWith("1 labelled Secret(s) not signed by this install", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Readers_listed_after_the_first_page_of_pods_are_in_the_report()
    {
        // More pods than one list page (500) that read nothing, named to be listed first: the readers come on the second page.
        for (var i = 0; i < 600; i++)
        {
            _cluster.Api.Put("pods", new JsonObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = "Pod",
                ["metadata"] = new JsonObject { ["name"] = $"aa-idle-{i:D3}", ["namespace"] = "shop" },
                ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "app", ["image"] = "busybox" }) },
                ["status"] = new JsonObject { ["phase"] = "Running" },
            });
        }
        var pagesBefore = _cluster.Api.ListPages;

        var (code, output, _) = await Report("--output", "json", "--namespace", "shop");

        Assert.Equal(ExitCodes.Failed, code);
        Assert.Equal("""{"pods":5,"current":2,"stale":2,"unknown":1}""", JsonNode.Parse(output)!["summary"]!.ToJsonString());
        Assert.True(_cluster.Api.ListPages - pagesBefore >= 8, $"{_cluster.Api.ListPages - pagesBefore} list pages: two of pods, one each of six other kinds");
    }

    [Fact]
    public async Task Yaml_and_html_carry_the_same_report()
    {
        var (yamlCode, yaml, yamlErr) = await Report("--output", "yaml", "--namespace", "billing");
        Assert.True(yamlCode != 2, yamlErr);
        var (htmlCode, html, _) = await Report("--output", "html", "--namespace", "billing");

        Assert.Equal((ExitCodes.Failed, ExitCodes.Failed), (yamlCode, htmlCode));
        var parsed = ConfigInjector.Manifests.YamlJson.Parse(yaml).Single()!;
        Assert.Equal("2", parsed["summary"]!["stale"]!.ToJsonString());
        Assert.Equal(3, parsed["rows"]!.AsArray().Count);
        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.Contains("2 pods read vault-prod:secret/shop/db: 0 on the latest version, 2 on an older one, 0 unknown (not injected)", html, StringComparison.Ordinal);
        Assert.DoesNotContain("cluster-only-", yaml + html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_ref_nobody_reads_exits_0_and_bad_input_exits_2_with_one_line()
    {
        var (code, output, _) = await CliRunner.RunAsync("report", "--ref", "vault-prod:secret/other/**", "--kubeconfig", _spread.Kubeconfig, "--config", _spread.Config);
        Assert.Equal(ExitCodes.Ok, code);
        Assert.EndsWith("0 pods read vault-prod:secret/other/**: 0 on the latest version, 0 on an older one, 0 unknown (not injected)\n", output, StringComparison.Ordinal);

        var (bad, _, stderr) = await CliRunner.RunAsync("report", "--ref", "no-colon", "--kubeconfig", _spread.Kubeconfig);
        Assert.Equal(ExitCodes.Usage, bad);
        Assert.Single(stderr.TrimEnd('\n').Split('\n'));
        Assert.Contains("no ':' after the backend name", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wait_polls_through_a_failed_poll_until_no_pod_is_on_an_older_version()
    {
        var waiting = CliRunner.Start(["report", "--ref", ReportSpread.Ref, "--kubeconfig", _spread.Kubeconfig, "--config", _spread.Config, "--wait", "60s", "--output", "json"]);
        // Nothing changes until the CLI has read the cluster, found the older versions and said it waits for them.
        await Eventually.TrueAsync(() => waiting.ErrSoFar.Contains("; waiting", StringComparison.Ordinal) || waiting.Completion.IsCompleted, "the CLI to say it is waiting");
        Assert.Equal("4 pods still on an older version; waiting\n", waiting.ErrSoFar);

        // The CLI's next poll meets an API server that fails once (the webhook replica's own reads are not touched): the wait goes on.
        _cluster.Api.FailNext("GET", "pods", 500, by: ReportSpread.CliToken);
        // The incident response: old pods replaced by pods admitted now, the bare pod and the job recreated.
        foreach (var (ns, pod) in new[] { ("shop", "checkout-a"), ("shop", "debug"), ("billing", "ledger-0"), ("billing", "nightly-28410-x7") })
            _cluster.Api.Delete("pods", ns, pod);

        var (code, output, stderr) = await waiting.Completion;

        Assert.Equal(ExitCodes.Ok, code);
        Assert.Equal(0, _cluster.Api.PendingFaults);
        Assert.Contains("warning: Kubernetes API 500 on list pods cluster-wide; trying again\n", stderr, StringComparison.Ordinal);
        Assert.Equal(0, JsonNode.Parse(output)!["summary"]!["stale"]!.GetValue<int>());
        Assert.DoesNotContain("cluster-only-", output + stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restart_rolls_the_workloads_still_on_an_older_version_with_events()
    {
        var restarting = Report("--restart", "--output", "json");
        await Eventually.TrueAsync(() => _cluster.Api.RestartedAt("shop", "checkout") is not null, "checkout to be restarted");
        _cluster.Api.CompleteRollout("shop", "checkout");
        await Eventually.TrueAsync(() => _cluster.Api.Get("statefulsets", "billing", "ledger")?["spec"]?["template"]?["metadata"]?["annotations"]?["kubectl.kubernetes.io/restartedAt"] is not null, "ledger to be restarted");
        _cluster.Api.Update("statefulsets", "billing", "ledger", s =>
            s["status"] = new JsonObject { ["observedGeneration"] = s["metadata"]!["generation"]!.GetValue<long>(), ["replicas"] = 1, ["updatedReplicas"] = 1, ["readyReplicas"] = 1 });

        var (code, _, stderr) = await restarting;

        Assert.Equal(ExitCodes.Failed, code);
        Assert.Contains("restarting 2 workloads: StatefulSet billing/ledger, Deployment shop/checkout", stderr, StringComparison.Ordinal);
        Assert.Null(_cluster.Api.RestartedAt("shop", "reports"));
        Assert.Equal(2, _cluster.Api.Events("RolloutRestart").Count);
    }

    private static readonly string[] Fields = ["namespace", "workloadKind", "workload", "delivery", "podVersion", "secretVersion", "latestVersion", "standing", "action", "policy"];

    private static string[] Words(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
