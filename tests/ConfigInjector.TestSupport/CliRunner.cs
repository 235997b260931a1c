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
}
