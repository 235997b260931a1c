using System.Text.Json.Nodes;
using ConfigInjector.Admission;
using ConfigInjector.Backends;
using ConfigInjector.Configuration;
using ConfigInjector.Core.Patching;
using ConfigInjector.Core.Planning;
using ConfigInjector.Hosting;
using ConfigInjector.ManagedSecrets;
using ConfigInjector.Manifests;
using ConfigInjector.Observability;
using ConfigInjector.Policies;
using k8s;
using k8s.Models;
using Prometheus;

namespace ConfigInjector.Cli;

/// <summary>
/// <c>configinjector inject</c>'s engine: the webhook's own <see cref="AdmissionHandler"/>, fed each pod template of a
/// manifest set, with its JSON patch applied in place and the managed Secrets collected instead of written.
/// </summary>
internal sealed class OfflineInjector : IDisposable
{
    private readonly ServiceProvider _services;
    private readonly AdmissionHandler _handler;
    private readonly InProcessManagedSecretStore _secrets;

    /// <summary>The webhook's own handler, made as <c>serve</c> makes it, with no cluster and policies from a folder.</summary>
    public OfflineInjector(InjectorConfig config, IPolicySource policies)
    {
        _services = new ServiceCollection()
            .AddLogging()
            .AddSingleton(TimeProvider.System)
            .AddSingleton(new InjectorMetrics(Metrics.NewCustomRegistry()))
            .AddSecretBackends(config)
            .AddInProcessCluster(Directory.GetCurrentDirectory())
            .AddSingleton(policies)
            .AddAdmission(config)
            .BuildServiceProvider();
        _handler = _services.GetRequiredService<AdmissionHandler>();
        _secrets = _services.GetRequiredService<InProcessManagedSecretStore>();
    }

    public void Dispose() => _services.Dispose();

    public sealed record Result(IReadOnlyList<JsonNode> Documents, IReadOnlyList<V1Secret> Secrets, IReadOnlyList<string> Warnings, IReadOnlyList<string> Denials);

    public async Task<Result> InjectAsync(IReadOnlyList<JsonNode?> documents, string defaultNamespace, CancellationToken cancellationToken)
    {
        var output = new List<JsonNode>();
        var warnings = new List<string>();
        var denials = new List<string>();
        foreach (var document in ManifestInput.Objects(documents))
        {
            var template = PodTemplates.Find(document);
            if (template is not null)
            {
                var what = $"{document["kind"]} {document["metadata"]?["namespace"] ?? defaultNamespace}/{document["metadata"]?["name"]}";
                var ns = document["metadata"]?["namespace"]?.GetValue<string>() ?? defaultNamespace;
                var podJson = new JsonObject
                {
                    ["apiVersion"] = "v1",
                    ["kind"] = "Pod",
                    ["metadata"] = (template["metadata"] ?? new JsonObject()).DeepClone(),
                    ["spec"] = template["spec"]?.DeepClone(),
                };
                // A template has no name: the workload's names the managed Secret, as its ReplicaSet would.
                podJson["metadata"]!["name"] ??= document["metadata"]?["name"]?.DeepClone();
                var pod = KubernetesJson.Deserialize<V1Pod>(podJson.ToJsonString());
                // What the endpoint answers with a 400: the handler plans only pods of a sound shape.
                if (PodShape.Problem(pod) is { } malformed)
                {
                    denials.Add($"{what}: configinjector: the pod is malformed: {malformed}");
                    continue;
                }
                var verdict = await _handler.HandleAsync(new AdmissionInput("offline", pod, ns, false, "configinjector inject"), cancellationToken);
                warnings.AddRange(verdict.Warnings.Select(w => $"{what}: {w}"));
                if (verdict.NeedsCluster)
                    throw new ConfigException($"{what}: {verdict.Message!["configinjector: ".Length..]}");
                if (!verdict.Allowed)
                {
                    denials.Add($"{what}: {verdict.Message}");
                    continue;
                }
                if (verdict.Patch is not null)
                {
                    var ops = JsonNode.Parse(verdict.Patch)!.AsArray()
                        .Select(o => new PatchOperation(o!["op"]!.GetValue<string>(), o["path"]!.GetValue<string>(), o["value"]?.DeepClone()));
                    var target = new JsonObject { ["metadata"] = template["metadata"]?.DeepClone() ?? new JsonObject(), ["spec"] = template["spec"]?.DeepClone() };
                    PatchApplier.Apply(target, ops);
                    template["metadata"] = target["metadata"]!.DeepClone();
                    template["spec"] = target["spec"]!.DeepClone();
                }
            }
            output.Add(document);
        }
        var secrets = _secrets.Secrets.OrderBy(s => s.Metadata.Name, StringComparer.Ordinal).ToList();
        foreach (var secret in secrets)
            secret.Metadata.Annotations[ManagedSecretFactory.LifecycleAnnotation] = ManagedSecretFactory.ManualLifecycle;
        return new Result(output, secrets, warnings, denials);
    }
}
