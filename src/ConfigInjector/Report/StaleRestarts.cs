using ConfigInjector.Core.Report;
using ConfigInjector.Sync;

namespace ConfigInjector.Report;

/// <summary>
/// <c>report --restart</c>: rolls every Deployment, StatefulSet and DaemonSet the report found with a pod still on an
/// older version through an env var or on a dynamic credential whose lease ended (its new pods are issued new
/// credentials), with the sync worker's own restarter (paced by maxConcurrentRestarts, one Event
/// per restart). Bare pods and Jobs cannot be rolled: the report says to recreate them.
/// </summary>
internal static class StaleRestarts
{
    public static IReadOnlyList<Workload> Workloads(BlastRadiusReport report) =>
        [.. report.Rows.Where(r => r.Standing == PodStanding.Stale && r.Action.EndsWith(BlastRadius.RestartPending, StringComparison.Ordinal))
            .Select(r => new Workload(r.WorkloadKind, r.Namespace, r.Workload))
            .Distinct()];

    /// <summary>Starts them all, at most maxConcurrentRestarts at a time, and returns once each has rolled out (or timed out).</summary>
    public static async Task RunAsync(WorkloadRestarter restarter, IReadOnlyList<Workload> workloads, TimeSpan tick, TimeProvider time, CancellationToken cancellationToken)
    {
        foreach (var workload in workloads)
            restarter.Enqueue(workload);
        while (true)
        {
            await restarter.PumpAsync(cancellationToken);
            if (restarter.Idle)
                return;
            await Task.Delay(tick, time, cancellationToken);
        }
    }
}
