using System.Text.Json.Nodes;

namespace ConfigInjector.TestSupport.Fakes;

/// <summary>Objects the tests put into the fake API server, as the controllers would have made them.</summary>
public static class KubeApiFakeExtensions
{
    /// <summary>A kubeconfig file that points KubernetesClient at the fake.</summary>
    /// <param name="token">The bearer token this client presents: the fake records who sent each request by it.</param>
    public static string WriteKubeconfig(this KubeApiFake api, string folder, string token = "fake-token")
    {
        var file = Path.Combine(folder, "kubeconfig");
        File.WriteAllText(file, $"""
            apiVersion: v1
            kind: Config
            clusters:
              - name: fake
                cluster: {"{"} server: "{api.Address.ToString().TrimEnd('/')}" {"}"}
            users:
              - name: fake
                user: {"{"} token: {token} {"}"}
            contexts:
              - name: fake
                context: {"{"} cluster: fake, user: fake, namespace: default {"}"}
            current-context: fake
            """);
        return file;
    }

    /// <summary>The pod-template-hash of every ReplicaSet <see cref="AddDeployment"/> makes (its name's suffix).</summary>
    public const string TemplateHash = "5d8f7c";

    /// <summary>The labels the ReplicaSet controller gives the pods of a ReplicaSet made by <see cref="AddDeployment"/>: its selector matches them.</summary>
    public static Dictionary<string, string> PodLabels((string Name, string Uid) replicaSet) =>
        new() { ["app"] = replicaSet.Name[..^(TemplateHash.Length + 1)], ["pod-template-hash"] = TemplateHash };

    /// <summary>A Deployment with one rolled-out ReplicaSet; returns the ReplicaSet's name and uid for the pod's ownerReferences.</summary>
    public static (string Name, string Uid) AddDeployment(this KubeApiFake api, string ns, string name)
    {
        var deployment = api.Put("deployments", new JsonObject
        {
            ["apiVersion"] = "apps/v1",
            ["kind"] = "Deployment",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns },
            ["spec"] = new JsonObject
            {
                ["replicas"] = 1,
                ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = name } },
                ["template"] = new JsonObject { ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["app"] = name } } },
            },
            ["status"] = new JsonObject { ["observedGeneration"] = 1, ["replicas"] = 1, ["updatedReplicas"] = 1, ["availableReplicas"] = 1 },
        });
        var rsName = $"{name}-{TemplateHash}";
        var replicaSet = api.Put("replicasets", new JsonObject
        {
            ["apiVersion"] = "apps/v1",
            ["kind"] = "ReplicaSet",
            ["metadata"] = new JsonObject
            {
                ["name"] = rsName,
                ["namespace"] = ns,
                ["ownerReferences"] = new JsonArray(new JsonObject
                {
                    ["apiVersion"] = "apps/v1",
                    ["kind"] = "Deployment",
                    ["name"] = name,
                    ["uid"] = deployment["metadata"]!["uid"]!.GetValue<string>(),
                    ["controller"] = true,
                    ["blockOwnerDeletion"] = true,
                }),
            },
            ["spec"] = new JsonObject
            {
                ["replicas"] = 1,
                ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = name, ["pod-template-hash"] = TemplateHash } },
                ["template"] = new JsonObject { ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["app"] = name, ["pod-template-hash"] = TemplateHash } } },
            },
        });
        return (rsName, replicaSet["metadata"]!["uid"]!.GetValue<string>());
    }

    /// <summary>Marks a Deployment's rollout finished, as the deployment controller would once new pods are available.</summary>
    public static void CompleteRollout(this KubeApiFake api, string ns, string name) => api.Update("deployments", ns, name, d =>
    {
        var generation = d["metadata"]!["generation"]!.GetValue<long>();
        d["status"] = new JsonObject { ["observedGeneration"] = generation, ["replicas"] = 1, ["updatedReplicas"] = 1, ["availableReplicas"] = 1 };
    });

    /// <summary>
    /// Stores a pod already admitted (<paramref name="review"/> holds the webhook's answer) as the API server would keep
    /// it (named, created now, running); returns the managed Secret's name.
    /// </summary>
    public static string StoreAdmitted(this KubeApiFake api, Builders.PodBuilder pod, ReviewResult review, string name, string ns)
    {
        var admitted = JsonNode.Parse(PatchOracle.Apply(pod.ToJson(), review.Patch!).ToString())!.AsObject();
        admitted["metadata"]!["name"] = name;
        admitted["metadata"]!["namespace"] = ns;
        admitted["metadata"]!["creationTimestamp"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        admitted["status"] = new JsonObject { ["phase"] = "Running" };
        api.Put("pods", admitted);
        return admitted["metadata"]!["annotations"]!["configinjector.io/managed-secret"]!.GetValue<string>();
    }

    public static string? RestartedAt(this KubeApiFake api, string ns, string name) =>
        api.Get("deployments", ns, name)?["spec"]?["template"]?["metadata"]?["annotations"]?["kubectl.kubernetes.io/restartedAt"]?.GetValue<string>();

    public static IReadOnlyList<JsonObject> Events(this KubeApiFake api, string reason) =>
        [.. api.All("events").Where(e => e["reason"]?.GetValue<string>() == reason)];
}

/// <summary>Waits for something the sync worker does on its own schedule; fails with a message instead of hanging.</summary>
public static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new Xunit.Sdk.XunitException($"timed out waiting for: {what}");
            await Task.Delay(50);
        }
    }
}
