using System.Diagnostics;

namespace ConfigInjector.TestSupport;

/// <summary>A command run to its end: exit code, standard output and standard error, read while it runs.</summary>
public static class ProcessRun
{
    public static async Task<(int Code, string Out, string Err)> RunAsync(ProcessStartInfo start, TimeSpan timeout)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(timeout);
        return (process.ExitCode, await stdout, await stderr);
    }
}
