using ConfigInjector.Cli;

namespace ConfigInjector.TestSupport;

/// <summary>Runs <c>configinjector</c> in-process and captures what a user would see.</summary>
public static class CliRunner
{
    public static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await CliApp.RunAsync(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Starts the command and lets the test read its output while it still runs (e.g. wait for "waiting").</summary>
    public static CliRun Start(params string[] args)
    {
        var stdout = new LiveWriter();
        var stderr = new LiveWriter();
        return new CliRun(stderr, Task.Run(async () =>
        {
            var code = await CliApp.RunAsync(args, stdout, stderr);
            return (code, stdout.ToString(), stderr.ToString());
        }));
    }
}

/// <summary>A running command: what it printed so far, and its exit code and output once it ends.</summary>
public sealed class CliRun(TextWriter stderr, Task<(int Code, string Out, string Err)> completion)
{
    public Task<(int Code, string Out, string Err)> Completion { get; } = completion;
    public string ErrSoFar => stderr.ToString()!;
}
