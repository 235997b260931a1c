using System.CommandLine;
using ConfigInjector.Backends;
using ConfigInjector.Configuration;
using ConfigInjector.Core.Report;
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
        var kubeconfig = new Option<string?>("--kubeconfig") { Description = "kubeconfig file (default: KUBECONFIG, then ~/.kube/config, then the in-cluster service account)" };
        // kubectl hands a plugin its arguments as they were typed: `kubectl configinjector report --context c -n ns` lands here.
        var context = new Option<string?>("--context") { Description = "the kubeconfig context to use (default: its current-context)" };
        var injectorNamespace = new Option<string>("--injector-namespace")
        {
            Description = "the namespace the injector runs in (its signing-key Secret verifies managed Secrets and makes KV v1 and file versions)",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("POD_NAMESPACE") is { Length: > 0 } podNamespace ? podNamespace : "config-injector",
        };
        var release = new Option<string>("--release") { Description = $"the install's release name (serve's --release): its signing-key Secret holds the version seed (default {Hosting.ReleaseNames.DefaultRelease})", DefaultValueFactory = _ => Hosting.ReleaseNames.DefaultRelease };
        var command = new Command("report", "Who reads a ref, which version each pod holds, and who still runs an older one.") { reference, ns, output, wait, restart, maxRestarts, kubeconfig, context, injectorNamespace, release };
        common.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            var pattern = RefPattern.Parse(parse.GetValue(reference));
            if (!pattern.IsOk)
                throw new ConfigException($"--ref {pattern.Error}");
            var format = parse.GetValue(output)!;
            if (format is not ("table" or "json" or "yaml" or "html"))
                throw new ConfigException($"--output \"{format}\": expected table, json, yaml or html");
            TimeSpan? waitFor = null;
            if (parse.GetValue(wait) is { } waitText)
                waitFor = DurationParser.TryParse(waitText, out var span) && span > TimeSpan.Zero ? span : throw new ConfigException($"--wait \"{waitText}\": expected a duration such as 30s or 10m");
            if (parse.GetValue(maxRestarts) is < 1 or > 1000)
                throw new ConfigException("--max-concurrent-restarts: expected 1 to 1000");
            var (client, description) = KubernetesConnection.Create(parse.GetValue(kubeconfig), parse.GetValue(context), userKubeconfig: true);
            if (client is null)
                throw new ConfigException("no cluster: give --kubeconfig, set KUBECONFIG, write ~/.kube/config, or run inside a cluster");

            var config = ConfigFileReader.Load(parse.GetValue(common.Config), Directory.GetCurrentDirectory());
            var time = TimeProvider.System;
            // The install's own keys, read and never written: KV v1 and file versions as its replicas compute them.
            using var installKeys = new KubernetesSigningKey(client, parse.GetValue(injectorNamespace)!, Hosting.ReleaseNames.For(parse.GetValue(release)!).SigningKey, KubernetesTimings.Default, time, readOnly: true);
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
            var report = new ReportService(new KubernetesReportCluster(client), services.GetRequiredService<SecretReader>(), config.Backends.Select(b => b.Name).ToHashSet(StringComparer.Ordinal), installKeys);
            var deadline = waitFor is { } w ? time.GetUtcNow() + w : (DateTimeOffset?)null;

            var result = await report.BuildAsync(pattern.Value!, parse.GetValue(ns), policies.Current, cancellationToken);
            if (parse.GetValue(restart) && StaleRestarts.Workloads(result) is { Count: > 0 } workloads)
            {
                var cluster = new KubernetesSyncCluster(client, new EventRecorder(client, time, "configinjector-report", services.GetRequiredService<ILogger<EventRecorder>>()));
                var restarter = new WorkloadRestarter(cluster, SyncSettings.Default with { MaxConcurrentRestarts = parse.GetValue(maxRestarts) }, time,
                    services.GetRequiredService<InjectorMetrics>(), services.GetRequiredService<ILogger<WorkloadRestarter>>());
                await stderr.WriteLineAsync($"restarting {workloads.Count} workloads: {TerminalText.Escape(string.Join(", ", workloads))}");
                await StaleRestarts.RunAsync(restarter, workloads, TimeSpan.FromSeconds(1), time, cancellationToken);
                result = await report.BuildAsync(pattern.Value!, parse.GetValue(ns), policies.Current, cancellationToken);
            }
            while (result.Summary.PodsStale > 0 && deadline is { } until && time.GetUtcNow() < until)
            {
                await stderr.WriteLineAsync($"{result.Summary.PodsStale} pods still on an older version; waiting");
                await Task.Delay(Min(PollInterval, until - time.GetUtcNow()), time, cancellationToken);
                try
                {
                    result = await report.BuildAsync(pattern.Value!, parse.GetValue(ns), policies.Current, cancellationToken);
                }
                catch (Exception e) when (e is ClusterApiException or HttpRequestException or IOException)
                {
                    // A wait spans minutes: one failed poll is reported and the next one tried.
                    await stderr.WriteLineAsync($"warning: {e.Message.Split('\n')[0]}; trying again");
                }
            }

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

    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(5);

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b.Ticks > 0 ? b : TimeSpan.Zero;
}
