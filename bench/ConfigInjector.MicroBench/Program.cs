using BenchmarkDotNet.Running;
using ConfigInjector.MicroBench;

// dotnet run -c Release --project bench/ConfigInjector.MicroBench -- --filter '*' [--job short]
// --loop SECONDS: the whole handler in a loop, nothing else, for a profiler to attach to (dotnet-trace).
if (args is ["--loop", var seconds])
{
    var steps = new AdmissionStepBenchmarks();
    steps.Setup();
    var until = DateTime.UtcNow.AddSeconds(int.Parse(seconds, System.Globalization.CultureInfo.InvariantCulture));
    var count = 0;
    while (DateTime.UtcNow < until)
    {
        await steps.WholeHandlerWarmCache();
        count++;
    }
    Console.WriteLine($"{count} admissions, {(double)int.Parse(seconds, System.Globalization.CultureInfo.InvariantCulture) * 1e6 / count:F1} µs each");
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(AdmissionStepBenchmarks).Assembly).Run(args);
