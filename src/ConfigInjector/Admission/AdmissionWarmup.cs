using System.Diagnostics;
using System.Text;
using ConfigInjector.Backends;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;
using ConfigInjector.ManagedSecrets;
using ConfigInjector.Observability;
using ConfigInjector.Policies;
using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;

namespace ConfigInjector.Admission;

/// <summary>
/// Runs one admission through the real endpoint and handler code before the replica reports ready, so the first
/// pod of the cluster does not pay for compiling that code (about half a second). Everything it touches is its own:
/// a sample pod, an in-memory backend, its own policy, store, metrics registry and a silent log — no backend, no
/// cluster, no audit line, nothing counted.
/// </summary>
internal sealed partial class AdmissionWarmup(ILogger<AdmissionWarmup> log) : IHostedService
{
    private const string Backend = "warmup";
    private const string Namespace = "configinjector-warmup";

    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool Done => _done.Task.IsCompleted;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // In the background: the host starts listening at once, /readyz says "warming up" until this ends.
        _ = Task.Run(RunAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task RunAsync()
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var (status, answer) = await AdmitSampleAsync();
            LogWarm(log, Stopwatch.GetElapsedTime(started).TotalMilliseconds, status, answer.Contains("\"patch\"", StringComparison.Ordinal) ? "patched" : "not patched");
        }
        catch (Exception e)
        {
            // A warm-up is an optimisation: its failure must never keep the replica from serving.
            LogFailed(log, e.GetType().Name);
        }
        finally
        {
            _done.TrySetResult();
        }
    }

    /// <summary>One sample review through <see cref="AdmissionEndpoint"/>; returns the HTTP status and the body it answered.</summary>
    internal static async Task<(int Status, string Answer)> AdmitSampleAsync()
    {
        var metrics = new InjectorMetrics(Metrics.NewCustomRegistry());
        var events = new LoggedAdmissionEvents(NullLogger<LoggedAdmissionEvents>.Instance);
        var reader = new SecretReader(new Dictionary<string, ISecretBackend> { [Backend] = new SampleBackend() }, metrics, TimeSpan.FromSeconds(5));
        var policy = new SecretPolicy("warmup", new PolicySubjects([Namespace], null), [new PolicyRule(Backend, ["**"], null)], RotationSettings.Default, BackendErrorMode.Deny);
        var handler = new AdmissionHandler(
            new StaticPolicySource(policy),
            new SecretCache(reader, TimeProvider.System, TimeSpan.FromMinutes(1), metrics),
            new Dictionary<string, Core.Planning.BackendInfo> { [Backend] = new(Backend, true) },
            new InProcessManagedSecretStore(NullLogger<InProcessManagedSecretStore>.Instance),
            new NoNamespaceOptIn(),
            new AuditLog(NullLoggerFactory.Instance, TimeProvider.System),
            metrics,
            events,
            new ProcessSigningKey(),
            new SignedSecretMemo());
        var endpoint = new AdmissionEndpoint(handler, events, metrics, 1024 * 1024, TimeSpan.FromSeconds(30), NullLogger<AdmissionEndpoint>.Instance);
        var context = new DefaultHttpContext();
        var body = Encoding.UTF8.GetBytes(SampleReview);
        context.Request.Method = "POST";
        context.Request.ContentType = "application/json";
        context.Request.ContentLength = body.Length;
        context.Request.Body = new MemoryStream(body);
        using var answer = new MemoryStream();
        context.Response.Body = answer;
        await endpoint.HandleAsync(context);
        return (context.Response.StatusCode, Encoding.UTF8.GetString(answer.ToArray()));
    }

    private sealed class SampleBackend : ISecretBackend
    {
        public string Name => Backend;

        public ValueTask<SecretRead> ReadAsync(SecretLocation location, CancellationToken cancellationToken) =>
            ValueTask.FromResult(SecretRead.Found(location, new SecretDocument("1", new Dictionary<string, string> { ["user"] = "sample", ["password"] = "sample" })));
    }

    // The shapes a real admission has: env and file refs, secrets-from, an owner, two containers.
    private const string SampleReview = """
        {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"warmup","kind":{"group":"","version":"v1","kind":"Pod"},
        "resource":{"group":"","version":"v1","resource":"pods"},"namespace":"configinjector-warmup","operation":"CREATE","userInfo":{"username":"warmup"},
        "object":{"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"warmup-5d4c-","namespace":"configinjector-warmup","labels":{"app":"warmup"},
        "annotations":{"configinjector.io/inject":"true","configinjector.io/secret.DB_PASSWORD":"warmup:app/db#password","configinjector.io/env.DB_USER":"warmup:app/db#user",
        "configinjector.io/file.db-password":"warmup:app/db#password","configinjector.io/secrets-from":"warmup:app/db"},
        "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"warmup-5d4c","uid":"00000000-0000-0000-0000-000000000001","controller":true}]},
        "spec":{"serviceAccountName":"warmup","containers":[{"name":"app","image":"example/app:1","env":[{"name":"MODE","value":"x"}],
        "resources":{"limits":{"cpu":"500m","memory":"128Mi"}},"ports":[{"containerPort":8080}]},{"name":"sidecar","image":"example/sidecar:1"}],
        "volumes":[{"name":"tmp","emptyDir":{}}]}}}}
        """;

    [LoggerMessage(Level = LogLevel.Information, Message = "admission path warmed up in {Milliseconds:F0} ms (sample pod: HTTP {Status}, {Outcome})")]
    private static partial void LogWarm(ILogger logger, double milliseconds, int status, string outcome);

    [LoggerMessage(Level = LogLevel.Warning, Message = "admission warm-up failed ({Exception}); serving anyway")]
    private static partial void LogFailed(ILogger logger, string exception);
}
