using System.CommandLine;
using ConfigInjector.Backends;
using ConfigInjector.Configuration;
using ConfigInjector.Kubernetes;
using ConfigInjector.Manifests;
using ConfigInjector.Observability;
using ConfigInjector.Report;
using ConfigInjector.Sync;

namespace ConfigInjector.Cli;

/// <summary>
/// <c>configinjector report --ref REF</c>: during an incident, which workloads read a ref, which version each running
/// pod holds, and which still run an older one. Exit 1 while any pod holds an older version than the backend's
/// latest (<c>--wait</c> polls until none is left); <c>--restart</c> rolls the workloads that still do.
/// </summary>
internal static class ReportCommand
{
    public static Command Create(CommonOptions common)
    {
        var reference = new Option<string>("--ref") { Description = "a ref, a backend:path (every key), a prefix ending in '/', or a glob as policies write them", Required = true };
        var ns = new Option<string?>("--namespace", "-n") { Description = "only this namespace (default: all)" };
        var output = new Option<string>("--output", "-o") { Description = "table, json, yaml or html", DefaultValueFactory = _ => "table" };
        var wait = new Option<string?>("--wait") { Description = "poll until no pod holds an older version, at most this long (e.g. 10m)" };
        var restart = new Option<bool>("--restart") { Description = "roll every Deployment/StatefulSet/DaemonSet with a pod still on an older version (paced by --max-concurrent-restarts)" };
        var maxRestarts = new Option<int>("--max-concurrent-restarts") { Description = "rollouts in flight at once with --restart", DefaultValueFactory = _ => SyncSettings.Default.MaxConcurrentRestarts };
        var cluster = new ClusterOptions();
        var command = new Command("report", "Who reads a ref, which version each pod holds, and who still runs an older one.") { reference, ns, output, wait, restart, maxRestarts };
        cluster.AddTo(command);
        common.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            var pattern = ClusterOptions.Pattern(parse, reference);
            var format = parse.GetValue(output)!;
            if (format is not ("table" or "json" or "yaml" or "html"))
                throw new ConfigException($"--output \"{format}\": expected table, json, yaml or html");
            var waitFor = ClusterOptions.Wait(parse, wait);
            if (parse.GetValue(maxRestarts) is < 1 or > 1000)
                throw new ConfigException("--max-concurrent-restarts: expected 1 to 1000");
            var client = CliCluster.Connect(parse.GetValue(cluster.Kubeconfig), parse.GetValue(cluster.Context));

            var config = ConfigFileReader.Load(parse.GetValue(common.Config), Directory.GetCurrentDirectory());
            var time = TimeProvider.System;
            var (keyNamespace, keySecret) = cluster.SigningKey(parse);
            using var installKeys = CliCluster.InstallKeys(client, keyNamespace, keySecret, time);
            // identity: pod backends are read as the service account each signed managed Secret records.
            using var services = OfflineBackends.Build(config, installKeys, new KubernetesServiceAccounts(client));
            // The POLICY column: the folder given with --policies, else the cluster's SecretPolicies.
            (IReadOnlyList<Core.Policies.SecretPolicy> Current, string? Problem) policies;
            if (parse.GetValue(common.Policies) is { } folder)
            {
                using var source = new Policies.FolderPolicySource(Policies.PolicyFolder.Resolve(folder), time, services.GetRequiredService<ILogger<Policies.FolderPolicySource>>(), watch: false);
                policies = (source.Current, null);
            }
            else
            {
                policies = await ClusterPolicies.ReadAsync(client, services.GetRequiredService<ILoggerFactory>(), cancellationToken);
            }
            if (policies.Problem is not null)
                await stderr.WriteLineAsync($"warning: {policies.Problem}; the POLICY column is empty");
            var report = new ReportService(new KubernetesReportCluster(client, keyNamespace), services.GetRequiredService<SecretReader>(), config.Backends.Select(b => b.Name).ToHashSet(StringComparer.Ordinal), installKeys, time);
            var deadline = waitFor is { } w ? time.GetUtcNow() + w : (DateTimeOffset?)null;

            var result = await report.BuildAsync(pattern, parse.GetValue(ns), policies.Current, cancellationToken);
            if (parse.GetValue(restart) && StaleRestarts.Workloads(result) is { Count: > 0 } workloads)
            {
                var syncCluster = new KubernetesSyncCluster(client, new EventRecorder(client, time, "configinjector-report", services.GetRequiredService<ILogger<EventRecorder>>()));
                var restarter = new WorkloadRestarter(syncCluster, SyncSettings.Default with { MaxConcurrentRestarts = parse.GetValue(maxRestarts) }, time,
                    services.GetRequiredService<InjectorMetrics>(), services.GetRequiredService<ILogger<WorkloadRestarter>>());
                await stderr.WriteLineAsync($"restarting {workloads.Count} workloads: {TerminalText.Escape(string.Join(", ", workloads))}");
                await StaleRestarts.RunAsync(restarter, workloads, TimeSpan.FromSeconds(1), time, cancellationToken);
                result = await report.BuildAsync(pattern, parse.GetValue(ns), policies.Current, cancellationToken);
            }
            result = await ReportWait.UntilCurrentAsync(report, result, pattern, parse.GetValue(ns), policies.Current, deadline, stderr, time, cancellationToken);

            await stdout.WriteAsync(format switch
            {
                "json" => ReportText.JsonText(result),
                "yaml" => YamlJson.ToYaml(ReportText.Json(result)),
                "html" => ReportPage.Render(result, time.GetUtcNow()),
                _ => ReportText.Table(result),
            });
            return result.Summary.PodsStale > 0 ? ExitCodes.Failed : ExitCodes.Ok;
        });
        return command;
    }
}
