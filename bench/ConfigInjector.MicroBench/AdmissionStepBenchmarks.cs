using System.Text.Json;
using BenchmarkDotNet.Attributes;
using ConfigInjector.Admission;
using ConfigInjector.Backends;
using ConfigInjector.Configuration;
using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Patching;
using ConfigInjector.Core.Planning;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;
using ConfigInjector.Hosting;
using ConfigInjector.Observability;
using ConfigInjector.Policies;
using k8s;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;

namespace ConfigInjector.MicroBench;

/// <summary>
/// Each step of one admission of examples/admission-review.json (3 refs from the file backend, 1 file) under the
/// example policies, and the whole handler with a warm cache: time and allocations per pod, each step also as a
/// ratio to the whole handler in the same run (the baseline).
/// </summary>
[MemoryDiagnoser]
public class AdmissionStepBenchmarks
{
    private const string Namespace = "default";
    private string _podJson = "";
    private V1Pod _pod = null!;
    private AnnotationParseResult _parsed = null!;
    private IPolicySource _policies = null!;
    private IReadOnlyDictionary<string, BackendInfo> _backends = null!;
    private PreparedInjection _prepared = null!;
    private IReadOnlyDictionary<SecretLocation, SecretRead> _reads = null!;
    private InjectionPlan _plan = null!;
    private IReadOnlyList<PatchOperation> _patch = null!;
    private byte[] _key = new byte[32];
    private ServiceProvider _services = null!;
    private AdmissionHandler _handler = null!;
    private AdmissionEndpoint _endpoint = null!;
    private byte[] _review = [];

    [GlobalSetup]
    public void Setup()
    {
        var repo = Repo.Root();
        using var review = JsonDocument.Parse(File.ReadAllText(Path.Combine(repo, "examples", "admission-review.json")));
        _podJson = review.RootElement.GetProperty("request").GetProperty("object").GetRawText();
        _pod = KubernetesJson.Deserialize<V1Pod>(_podJson);
        var config = ConfigFileReader.Load(null, repo);
        _services = new ServiceCollection()
            .AddLogging(l => l.SetMinimumLevel(LogLevel.Warning))
            .AddSingleton(TimeProvider.System)
            .AddSingleton(new InjectorMetrics(Metrics.NewCustomRegistry()))
            .AddSecretBackends(config)
            .AddInProcessCluster(repo)
            .AddSingleton<IPolicySource>(sp => new FolderPolicySource(Path.Combine(repo, "examples", "policies"), TimeProvider.System, NullLogger<FolderPolicySource>.Instance, watch: false))
            .AddAdmission(config)
            .BuildServiceProvider();
        _handler = _services.GetRequiredService<AdmissionHandler>();
        _endpoint = _services.GetRequiredService<AdmissionEndpoint>();
        _review = File.ReadAllBytes(Path.Combine(repo, "examples", "admission-review.json"));
        _policies = _services.GetRequiredService<IPolicySource>();
        _backends = _services.GetRequiredService<IReadOnlyDictionary<string, BackendInfo>>();
        _parsed = AnnotationParser.Parse(_pod.Metadata.Annotations.AsReadOnly());
        _prepared = InjectionPreparer.Prepare(_pod, Namespace, _parsed.Request, _policies.Current, _backends, _policies.Profiles, _parsed.Warnings).Value
            ?? throw new InvalidOperationException("the example pod must be allowed");
        _reads = _services.GetRequiredService<SecretCache>().ReadAllAsync("default", _prepared.Locations, CancellationToken.None).GetAwaiter().GetResult();
        _plan = InjectionCompleter.Complete(_pod, _prepared, _reads).Value!;
        _patch = PatchBuilder.Build(_pod, _plan);
        _handler.HandleAsync(new AdmissionInput("uid", _pod, Namespace, false, "bench"), CancellationToken.None).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup() => _services.Dispose();

    [Benchmark]
    public V1Pod BindPod() => KubernetesJson.Deserialize<V1Pod>(_podJson);

    [Benchmark]
    public AnnotationParseResult ParseAnnotations() => AnnotationParser.Parse(_pod.Metadata.Annotations.AsReadOnly());

    [Benchmark]
    public PolicyDecision EvaluatePolicy() =>
        PolicyEvaluator.Evaluate(_policies.Current, _prepared.Subject, _prepared.Decisions.Keys.First());

    [Benchmark]
    public object? PrepareWithPolicies() => InjectionPreparer.Prepare(_pod, Namespace, _parsed.Request, _policies.Current, _backends, _policies.Profiles, _parsed.Warnings).Value;

    [Benchmark]
    public object? CompletePlan() => InjectionCompleter.Complete(_pod, _prepared, _reads).Value;

    [Benchmark]
    public byte[] BuildAndSerializePatch() => PatchSerializer.ToJsonBytes(PatchBuilder.Build(_pod, _plan));

    /// <summary>What the handler writes now: the same bytes as <see cref="BuildAndSerializePatch"/>.</summary>
    [Benchmark]
    public byte[] WritePatch() => PatchWriter.Write(_pod, _plan);

    [Benchmark]
    public V1Secret SignManagedSecret() => ManagedSecretFactory.Create(_plan.Secret!, _key);

    /// <summary>
    /// The endpoint on the review's bytes (bind, handle, answer, metrics) without Kestrel or TLS; the context and
    /// streams it needs are part of the figure, the same in every run.
    /// </summary>
    [Benchmark]
    public async Task<int> WholeEndpointFromBytes()
    {
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.ContentType = "application/json";
        context.Request.ContentLength = _review.Length;
        context.Request.Body = new MemoryStream(_review, writable: false);
        context.Response.Body = Stream.Null;
        await _endpoint.HandleAsync(context);
        return context.Response.StatusCode;
    }

    [Benchmark(Baseline = true)]
    public async Task<bool> WholeHandlerWarmCache() => (await _handler.HandleAsync(new AdmissionInput("uid", _pod, Namespace, false, "bench"), CancellationToken.None)).Allowed;
}

internal static class Repo
{
    public static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ConfigInjector.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException("run the benchmarks from inside the repository");
    }
}
