using ConfigInjector.Core.Annotations;
using ConfigInjector.Observability;
using ConfigInjector.Tests.Sync;
using ConfigInjector.TestSupport.Fakes;
using k8s.Models;

namespace ConfigInjector.Tests.Observability;

/// <summary>A rotation pass as spans: the pass, each Secret reconciled under it with the versions it brought in, and the restart that follows.</summary>
public sealed class RotationTraceTests : IAsyncLifetime, IDisposable
{
    private readonly TraceCapture _traces = new();
    private SyncHarness _sync = null!;

    public async Task InitializeAsync()
    {
        _sync = await SyncHarness.StartAsync();
        _sync.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "cluster-only-password-v2" });
        _sync.Policies.Allow("shop", "shop", null, "secret/shop/**");
    }

    public void Dispose() => _traces.Dispose();

    public async Task DisposeAsync() => await _sync.DisposeAsync();

    [Fact]
    public async Task A_pass_has_a_span_per_secret_with_its_new_versions_and_the_restart_has_its_own()
    {
        var replicaSet = _sync.Api.AddDeployment("shop", "payments");
        var changed = _sync.AddManaged("shop", "configinjector-payments-1", "default", "DB_PASSWORD", "vault-prod:secret/shop/db#password", "cluster-only-password-v1",
            owner: new V1OwnerReference { ApiVersion = "apps/v1", Kind = "ReplicaSet", Name = replicaSet.Name, Uid = replicaSet.Uid, Controller = true }, onChange: RotationMode.Restart);
        var unchanged = _sync.AddManaged("shop", "configinjector-payments-2", "default", "DB_PASSWORD", "vault-prod:secret/shop/db#password", "cluster-only-password-v2");
        _sync.AddPod("payments-0", replicaSet, KubeApiFakeExtensions.PodLabels(replicaSet), _sync.Time.GetUtcNow() - TimeSpan.FromHours(1), "configinjector-payments-1");

        var spans = await _traces.RunAsync(async () =>
        {
            await _sync.Pass().RunAsync([changed, unchanged], CancellationToken.None);
            _sync.Time.Advance(TimeSpan.FromMinutes(2));
            await _sync.Restarts.ResolveAsync(CancellationToken.None);
            await _sync.Restarter.PumpAsync(CancellationToken.None);
        });

        Assert.NotNull(_sync.Api.RestartedAt("shop", "payments"));
        var pass = spans.Single(s => s.OperationName == Tracing.RotationPass);
        Assert.Equal((2, 1), ((int)pass.GetTagItem(Tracing.Count)!, (int)pass.GetTagItem("configinjector.updated")!));
        var secrets = spans.Where(s => s.OperationName == Tracing.RotationSecret).ToDictionary(s => (string)s.GetTagItem(Tracing.SecretName)!);
        Assert.All(secrets.Values, s => Assert.Equal(pass.SpanId, s.ParentSpanId));
        Assert.Equal("updated", secrets["configinjector-payments-1"].GetTagItem(Tracing.Result));
        Assert.Equal(["vault-prod:secret/shop/db#password@1"], (string[])secrets["configinjector-payments-1"].GetTagItem(Tracing.Version)!);
        Assert.Equal("unchanged", secrets["configinjector-payments-2"].GetTagItem(Tracing.Result));
        Assert.Contains(spans, s => s.OperationName == Tracing.BackendRead && s.ParentSpanId == pass.SpanId);
        var restart = spans.Single(s => s.OperationName == Tracing.Restart);
        Assert.Equal(("shop", "Deployment/payments", "started"),
            ((string?)restart.GetTagItem(Tracing.Namespace), (string?)restart.GetTagItem(Tracing.Workload), (string?)restart.GetTagItem(Tracing.Result)));
        Assert.DoesNotContain(spans.SelectMany(s => s.TagObjects), t => Convert.ToString(t.Value, System.Globalization.CultureInfo.InvariantCulture)!.Contains("cluster-only-password", StringComparison.Ordinal));
    }
}
