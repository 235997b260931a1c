using ConfigInjector.Core.Policies;
using ConfigInjector.Core.Report;
using ConfigInjector.Report;
using ConfigInjector.Sync;

namespace ConfigInjector.Cli;

/// <summary><c>--wait</c> of <c>report</c> and <c>rotate</c>: the report built again every few seconds until no pod holds an older version, or the deadline.</summary>
internal static class ReportWait
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(5);

    public static async Task<BlastRadiusReport> UntilCurrentAsync(ReportService report, BlastRadiusReport result, RefPattern pattern, string? namespaceName,
        IReadOnlyList<SecretPolicy> policies, DateTimeOffset? deadline, TextWriter stderr, TimeProvider time, CancellationToken cancellationToken)
    {
        while (result.Summary.PodsStale > 0 && deadline is { } until && time.GetUtcNow() < until)
        {
            await stderr.WriteLineAsync($"{result.Summary.PodsStale} pods still on an older version; waiting");
            await Task.Delay(Min(PollInterval, until - time.GetUtcNow()), time, cancellationToken);
            try
            {
                result = await report.BuildAsync(pattern, namespaceName, policies, cancellationToken);
            }
            catch (Exception e) when (e is ClusterApiException or HttpRequestException or IOException)
            {
                // A wait spans minutes: one failed poll is reported and the next one tried.
                await stderr.WriteLineAsync($"warning: {e.Message.Split('\n')[0]}; trying again");
            }
        }
        return result;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b.Ticks > 0 ? b : TimeSpan.Zero;
}
