using System.Globalization;
using ConfigInjector.Bench;

// Benchmarks with a baseline in the same run; report medians over rounds and ratios (these machines are noisy).
//   --secrets N: managed Secrets of the rotation and cluster-scale scenarios (10,000)
//   --scenario admission | process | vault-cache | hostile (with costly) | costly | rotation | scale | cluster-scale | refresh-triggers | report | rotation-identity | leases | all   (default all)
//   refresh-triggers (not in all): --interval S, the rotation interval polling is measured on (30); --rounds writes per trigger
//   process: --binary PATH (default the Release build of src/ConfigInjector), --rate N, --seconds N
if (args is ["--serve-noop", var url, var cert, var key])
{
    await NoopWebhook.RunAsync(url, cert, key);
    return;
}
if (args is ["--load", var loadPort, var caFile, var loadSeconds, ..])
{
    await LoadMode.RunAsync(int.Parse(loadPort, CultureInfo.InvariantCulture), caFile, int.Parse(loadSeconds, CultureInfo.InvariantCulture),
        args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 1000, args.Length > 5 ? int.Parse(args[5], CultureInfo.InvariantCulture) : null);
    return;
}
var options = BenchOptions.Parse(args);
var report = $"ConfigInjector benchmarks — {DateTime.UtcNow:u}, {Environment.ProcessorCount} cores, .NET {Environment.Version}\n\n";
if (options.Scenario is "all" or "admission")
{
    var part = await AdmissionScenario.RunAsync(options);
    Console.Write(part);
    report += part;
}
if (options.Scenario is "all" or "process")
{
    var part = await ProcessScenario.RunAsync(options);
    Console.Write(part);
    report += part;
}
if (options.Scenario is "all" or "vault-cache")
{
    var part = await VaultCacheScenario.RunAsync(options);
    Console.Write(part);
    report += part;
}
if (options.Scenario is "all" or "hostile")
{
    var part = await HostileScenario.RunAsync(options);
    Console.Write(part);
    report += part;
}
if (options.Scenario is "all" or "hostile" or "costly")
{
    var part = await CostlyPodScenario.RunAsync(options.Rounds);
    Console.Write(part);
    report += part;
}
if (options.Scenario is "all" or "rotation")
{
    var part = await RotationScenario.RunAsync(options.Secrets);
    Console.Write(part);
    report += part;
}
if (options.Scenario is "all" or "scale")
{
    var part = await ScaleScenario.RunAsync(options.Rounds);
    Console.Write(part);
    report += part;
}
// Not in "all": it starts two replicas and admits --secrets pods (50,000 for the goal), minutes on 2 cores.
if (options.Scenario is "cluster-scale")
{
    var part = await ClusterScaleScenario.RunAsync(options);
    Console.Write(part);
    report += part;
}
// Not in "all": 10,000 Secrets through four kinds of pass, then two replicas admitting 600 pods.
if (options.Scenario is "rotation-identity")
{
    var part = await RotationIdentityScenario.RunAsync(options);
    Console.Write(part);
    report += part;
}
// Not in "all": each trigger waits out random offsets within the rotation interval, minutes of mostly idle time.
if (options.Scenario is "refresh-triggers")
{
    var part = await RefreshTriggersScenario.RunAsync(options);
    Console.Write(part);
    report += part;
}
// Not in "all": a minute of passes over 1,000 leases on a fake clock (renewal, nothing due, re-issue, revocation).
if (options.Scenario is "leases")
{
    var part = await LeasesScenario.RunAsync();
    Console.Write(part);
    report += part;
}
if (options.Scenario is "all" or "report")
{
    var part = await ReportScenario.RunAsync(options);
    Console.Write(part);
    report += part;
}
if (options.Out is { } outFile)
{
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outFile))!);
    await File.WriteAllTextAsync(outFile, report);
}

namespace ConfigInjector.Bench
{
    internal sealed record BenchOptions(string Scenario, int Requests, int Rounds, int Concurrency, int Warmup, string? Out, string? Binary = null, int Rate = 1000, int Seconds = 5, int WarmupSeconds = 10, int Secrets = 10_000, int Interval = 30)
    {
        public static BenchOptions Parse(string[] args)
        {
            string? Text(string name)
            {
                var i = Array.IndexOf(args, name);
                return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
            }
            int Number(string name, int fallback) => Text(name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;
            return new BenchOptions(Text("--scenario") ?? "all", Number("--requests", 2000), Number("--rounds", 5), Number("--concurrency", 8), Number("--warmup", 1000), Text("--out"),
                Text("--binary"), Number("--rate", 1000), Number("--seconds", 5), Number("--warmup-seconds", 10), Number("--secrets", 10_000), Number("--interval", 30));
        }
    }
}
