using System.CommandLine;
using ConfigInjector.Configuration;

namespace ConfigInjector.Cli;

/// <summary>The <c>configinjector</c> command line: one command per verb, exit codes from <see cref="ExitCodes"/>.</summary>
internal static class CliApp
{
    /// <summary>Parses without running: what the chart's arguments are checked with.</summary>
    public static ParseResult Parse(string[] args)
    {
        var common = new CommonOptions();
        var root = new RootCommand("ConfigInjector: configuration and secrets from vaults into Kubernetes pods, under SecretPolicies.")
        {
            ServeCommand.Create(common),
            ResolveCommand.Create(common),
            InjectCommand.Create(common),
            PolicyCommand.Create(common),
            TemplateCommand.Create(common),
            ReportCommand.Create(common),
            RotateCommand.Create(common),
            CertsCommand.Create(common),
            VersionCommand.Create(),
        };
        return root.Parse(args);
    }

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var parse = Parse(args);
        if (parse.Errors.Count > 0)
        {
            // "Unrecognized …" names the typo, which is more useful than what is missing because of it.
            var error = parse.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal)) ?? parse.Errors[0];
            await stderr.WriteLineAsync($"configinjector: {error.Message} (see configinjector --help)");
            return ExitCodes.Usage;
        }
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration
            {
                Output = stdout,
                Error = stderr,
                EnableDefaultExceptionHandler = false,
                // SIGTERM is the host's to handle: it fails readiness, serves through --shutdown-delay and drains.
                // A termination timeout here would end the process in the middle of that.
                ProcessTerminationTimeout = null,
            });
        }
        catch (ConfigException e)
        {
            await stderr.WriteLineAsync($"configinjector: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The environment said no (a port in use, a folder not writable, a certificate not loadable): one line, never a trace.
            await stderr.WriteLineAsync($"configinjector: {e.Message.Split('\n')[0].Trim()}");
            return ExitCodes.Usage;
        }
    }
}
