using ConfigInjector.Backends;
using ConfigInjector.Core.Policies;
using ConfigInjector.ManagedSecrets;
using ConfigInjector.Observability;
using ConfigInjector.Policies;
using ConfigInjector.Sync;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Prometheus;

namespace ConfigInjector.Bench;

/// <summary>A rotation pass as the leader builds it, for the in-process scenarios: one policy lets every <c>team-*</c> namespace read <c>paths</c> of <c>vault-bench</c>.</summary>
internal static class BenchRotationPass
{
    public static RotationPass Create(ISyncCluster cluster, IReadOnlyDictionary<string, ISecretBackend> backends, byte[] signingKey, string paths, BackendLimiter limiter)
    {
        var metrics = new InjectorMetrics(Metrics.NewCustomRegistry());
        var restarter = new WorkloadRestarter(cluster, SyncSettings.Default, new FakeTimeProvider(), metrics, NullLogger<WorkloadRestarter>.Instance);
        var restarts = new RestartRecords(cluster, new StaticSigningKey(signingKey), restarter, TimeProvider.System, metrics, NullLogger<RestartRecords>.Instance);
        var reader = new SecretReader(backends, metrics, TimeSpan.FromSeconds(30));
        var policies = new StaticPolicySource(new SecretPolicy("bench", new PolicySubjects(["team-*"], null), [new PolicyRule("vault-bench", [paths], null)], RotationSettings.Default, BackendErrorMode.Deny));
        return new RotationPass(cluster, reader, new SecretCache(reader, TimeProvider.System, TimeSpan.FromMinutes(5), metrics), new StaticSigningKey(signingKey), policies,
            limiter, restarts, SyncSettings.Default, TimeProvider.System, metrics, NullLogger<RotationPass>.Instance);
    }
}
