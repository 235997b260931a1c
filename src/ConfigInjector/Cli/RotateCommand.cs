using System.CommandLine;
using ConfigInjector.Configuration;
using ConfigInjector.Kubernetes;
using ConfigInjector.Report;

namespace ConfigInjector.Cli;

/// <summary>
/// <c>configinjector rotate --ref REF</c>: refresh now every managed Secret that uses a ref, a path, a prefix or a glob
/// (DESIGN.md §5): each gets a new <c>configinjector.io/refresh</c> value and the leader re-reads its refs within
/// seconds. With <c>--wait</c> it then waits, as <c>report --wait</c> does, until no pod holds an older version (exit 1
/// if one still does at the deadline). Exit 1 too when no managed Secret uses the ref: a typo must not look done.
/// </summary>
internal static class RotateCommand
{
    public const string Trigger = "rotate";

    public static Command Create(CommonOptions common)
    {
        var reference = new Option<string>("--ref") { Description = "a ref, a backend:path (every key), a prefix ending in '/', or a glob as policies write them", Required = true };
        var ns = new Option<string?>("--namespace", "-n") { Description = "only this namespace (default: all)" };
        var wait = new Option<string?>("--wait") { Description = "then wait until no pod holds an older version, at most this long (e.g. 10m)" };
        var cluster = new ClusterOptions();
        var command = new Command("rotate", "Refresh now every managed Secret that uses a ref, and optionally wait until every pod holds the new version.") { reference, ns, wait };
        cluster.AddTo(command);
        common.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            var pattern = ClusterOptions.Pattern(parse, reference);
            var waitFor = ClusterOptions.Wait(parse, wait);
            var client = CliCluster.Connect(parse.GetValue(cluster.Kubeconfig), parse.GetValue(cluster.Context));
            var config = ConfigFileReader.Load(parse.GetValue(common.Config), Directory.GetCurrentDirectory());
            var time = TimeProvider.System;
            var (keyNamespace, keySecret) = cluster.SigningKey(parse);
            using var installKeys = CliCluster.InstallKeys(client, keyNamespace, keySecret, time);
            // identity: pod backends are read as the service account each signed managed Secret records, as report does.
            using var services = OfflineBackends.Build(config, installKeys, new KubernetesServiceAccounts(client));
            var deadline = time.GetUtcNow() + waitFor;

            var requester = new KubernetesRefreshRequester(client, installKeys, time, services.GetRequiredService<ILogger<KubernetesRefreshRequester>>());
            var refreshed = await requester.AnnotateAsync([pattern], parse.GetValue(ns), Trigger, cancellationToken);
            if (!refreshed.Verified)
                await stderr.WriteLineAsync("warning: the install's signing key could not be read (see --injector-namespace): Secrets were matched by what they claim; the injector verifies each before it reads anything");
            foreach (var (secretNamespace, name) in refreshed.Annotated)
                await stdout.WriteLineAsync($"secret/{TerminalText.Escape(name)} -n {TerminalText.Escape(secretNamespace)} annotated");
            if (refreshed.Annotated.Count == 0)
            {
                await stderr.WriteLineAsync($"no managed Secret uses {TerminalText.Escape(pattern.ToString())}{(parse.GetValue(ns) is { } only ? $" in namespace {TerminalText.Escape(only)}" : "")}: nothing to rotate");
                return ExitCodes.Failed;
            }
            if (deadline is not { } until)
                return ExitCodes.Ok;

            var report = new ReportService(new KubernetesReportCluster(client, keyNamespace), services.GetRequiredService<Backends.SecretReader>(), config.Backends.Select(b => b.Name).ToHashSet(StringComparer.Ordinal), installKeys, time);
            var result = await report.BuildAsync(pattern, parse.GetValue(ns), [], cancellationToken);
            result = await ReportWait.UntilCurrentAsync(report, result, pattern, parse.GetValue(ns), [], until, stderr, time, cancellationToken);
            if (result.Summary.PodsStale == 0)
            {
                await stdout.WriteLineAsync($"every pod that reads {TerminalText.Escape(pattern.ToString())} holds the latest version");
                return ExitCodes.Ok;
            }
            await stderr.WriteLineAsync($"{result.Summary.PodsStale} pods still on an older version after {parse.GetValue(wait)}:");
            await stdout.WriteAsync(ReportText.Table(result));
            return ExitCodes.Failed;
        });
        return command;
    }
}
