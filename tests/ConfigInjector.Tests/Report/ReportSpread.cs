using System.Text.Json.Nodes;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Builders;
using ConfigInjector.TestSupport.Fakes;
using k8s.Models;

namespace ConfigInjector.Tests.Report;

/// <summary>
/// A realistic spread for the blast-radius report, made through the real webhook against the fake API server and the
/// Vault fake: pods admitted before and after <c>secret/shop/db</c> moved from version 1 to 2, in two namespaces, as
/// env and file consumers of Deployments, a StatefulSet, a CronJob's Job and a bare pod, plus one pod that escaped
/// injection. Env consumers say <c>rotation: none</c> so the worker leaves their restarts to the report.
/// </summary>
internal sealed class ReportSpread
{
    public const string Ref = "vault-prod:secret/shop/db";

    /// <summary>The bearer token in <see cref="Kubeconfig"/>: what the CLI's requests are known by in the fake API server.</summary>
    public const string CliToken = "security-oncall";

    private ReportSpread(ClusterEnvironment cluster, WebhookServer server)
    {
        Cluster = cluster;
        Server = server;
    }

    public ClusterEnvironment Cluster { get; }
    public WebhookServer Server { get; }
    public KubeApiFake Api => Cluster.Api;
    public string Kubeconfig => Api.WriteKubeconfig(Server.WorkDir, token: CliToken);
    public string Config => Path.Combine(Server.WorkDir, "config", "injector.yaml");

    public static async Task<ReportSpread> CreateAsync(ClusterEnvironment cluster, Func<ConfigInjector.Hosting.ServeSettings, ConfigInjector.Hosting.ServeSettings>? settings = null)
    {
        var server = await cluster.StartReplicaAsync(policyNamespaces: "[shop, billing]", settings: settings);
        var spread = new ReportSpread(cluster, server);
        cluster.Api.Put("secretpolicies", JsonNode.Parse("""
            {"apiVersion": "configinjector.io/v1alpha1", "kind": "SecretPolicy", "metadata": {"name": "shop-and-billing"},
             "spec": {"subjects": {"namespaces": ["shop", "billing"]}, "rules": [{"backend": "vault-prod", "paths": ["secret/shop/**"]}]}}
            """)!.AsObject());

        var checkout = cluster.Api.AddDeployment("shop", "checkout");
        var reports = cluster.Api.AddDeployment("shop", "reports");
        var ledger = spread.AddStatefulSet("billing", "ledger");
        var job = spread.AddCronJobRun("billing", "nightly");
        await spread.AdmitAsync("checkout-a", Owned(checkout, "ReplicaSet", "shop", KubeApiFakeExtensions.PodLabels(checkout)).WithAnnotation("configinjector.io/secret.DB_PASSWORD", Ref + "#password"), "shop");
        await spread.AdmitAsync("reports-a", Owned(reports, "ReplicaSet", "shop", KubeApiFakeExtensions.PodLabels(reports)).WithAnnotation("configinjector.io/file.db-password", Ref + "#password"), "shop");
        await spread.AdmitAsync("debug", PodBuilder.Injected("debug").InNamespace("shop").WithAnnotation("configinjector.io/secret.DB_PASSWORD", Ref + "#password"), "shop");
        await spread.AdmitAsync("ledger-0", Owned(ledger, "StatefulSet", "billing", new() { ["app"] = "ledger" }).WithAnnotation("configinjector.io/template.DATABASE_URL", "pg://${" + Ref + "#user}:${" + Ref + "#password}@db/ledger"), "billing");
        await spread.AdmitAsync("nightly-28410-x7", Owned(job, "Job", "billing", new() { ["job-name"] = job.Name }).WithAnnotation("configinjector.io/secret.DB_PASSWORD", Ref + "#password"), "billing");
        // Yesterday's run, finished: it runs nothing, so it holds no credential and is not in the report.
        await spread.AdmitAsync("nightly-28409-done", Owned(job, "Job", "billing", new() { ["job-name"] = job.Name }).WithAnnotation("configinjector.io/secret.DB_PASSWORD", Ref + "#password"), "billing", phase: "Succeeded");
        // Admitted while the webhook was down (failurePolicy: Ignore): asks for the ref, was never given it.
        cluster.Api.Put("pods", JsonNode.Parse(PodBuilder.Injected("legacy").InNamespace("shop").WithAnnotation("configinjector.io/secret.DB_PASSWORD", Ref + "#password").ToJson())!.AsObject());

        cluster.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["password"] = "cluster-only-password-v2", ["user"] = "shop" });
        await Eventually.TrueAsync(() => cluster.Api.All("secrets", "shop").Concat(cluster.Api.All("secrets", "billing"))
            .Where(s => s["metadata"]?["labels"]?["app.kubernetes.io/managed-by"]?.GetValue<string>() == "config-injector")
            .All(s => s["metadata"]!["annotations"]!["configinjector.io/sources"]!.ToString().Contains("\"version\":\"2\"", StringComparison.Ordinal)
                || s["metadata"]!["annotations"]!["configinjector.io/composed"]?.ToString().Contains("\"2\"", StringComparison.Ordinal) == true), "every managed Secret to hold version 2");
        await spread.AdmitAsync("checkout-b", Owned(checkout, "ReplicaSet", "shop", KubeApiFakeExtensions.PodLabels(checkout)).WithAnnotation("configinjector.io/secret.DB_PASSWORD", Ref + "#password"), "shop");
        return spread;
    }

    /// <summary>Through the webhook, then stored as the API server would keep the admitted pod.</summary>
    public async Task AdmitAsync(string name, PodBuilder pod, string ns, string phase = "Running")
    {
        var review = await Server.ReviewPodAsync(pod, ns);
        Xunit.Assert.True(review.Allowed, review.Message);
        var admitted = PatchOracle.Apply(pod.ToJson(), review.Patch!);
        admitted["metadata"]!["name"] = name;
        admitted["metadata"]!["namespace"] = ns;
        admitted["status"] = new Newtonsoft.Json.Linq.JObject { ["phase"] = phase };
        Api.Put("pods", JsonNode.Parse(admitted.ToString())!.AsObject());
    }

    /// <summary>A pod of <paramref name="owner"/> with the labels its selector matches, as its controller makes it.</summary>
    private static PodBuilder Owned((string Name, string Uid) owner, string kind, string ns, Dictionary<string, string> labels)
    {
        var pod = PodBuilder.Injected("").InNamespace(ns).WithAnnotation("configinjector.io/rotation", "none")
            .WithOwner(new V1OwnerReference { ApiVersion = kind == "Job" ? "batch/v1" : "apps/v1", Kind = kind, Name = owner.Name, Uid = owner.Uid, Controller = true });
        foreach (var (key, value) in labels)
            pod.WithLabel(key, value);
        return pod;
    }

    private (string Name, string Uid) AddStatefulSet(string ns, string name)
    {
        var set = Api.Put("statefulsets", new JsonObject
        {
            ["apiVersion"] = "apps/v1",
            ["kind"] = "StatefulSet",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns },
            ["spec"] = new JsonObject
            {
                ["replicas"] = 1,
                ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = name } },
                ["template"] = new JsonObject { ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["app"] = name } } },
            },
            ["status"] = new JsonObject { ["observedGeneration"] = 1, ["replicas"] = 1, ["updatedReplicas"] = 1, ["readyReplicas"] = 1, ["currentRevision"] = name + "-1", ["updateRevision"] = name + "-1" },
        });
        return (name, set["metadata"]!["uid"]!.GetValue<string>());
    }

    private (string Name, string Uid) AddCronJobRun(string ns, string name)
    {
        var cronJob = Api.Put("cronjobs", new JsonObject
        {
            ["apiVersion"] = "batch/v1",
            ["kind"] = "CronJob",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns },
            ["spec"] = new JsonObject { ["schedule"] = "0 2 * * *", ["jobTemplate"] = new JsonObject() },
        });
        var job = Api.Put("jobs", new JsonObject
        {
            ["apiVersion"] = "batch/v1",
            ["kind"] = "Job",
            ["metadata"] = new JsonObject
            {
                ["name"] = name + "-28410",
                ["namespace"] = ns,
                ["ownerReferences"] = new JsonArray(new JsonObject { ["apiVersion"] = "batch/v1", ["kind"] = "CronJob", ["name"] = name, ["uid"] = cronJob["metadata"]!["uid"]!.GetValue<string>(), ["controller"] = true }),
            },
            ["spec"] = new JsonObject
            {
                ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["job-name"] = name + "-28410" } },
                ["template"] = new JsonObject { ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["job-name"] = name + "-28410" } } },
            },
        });
        return (name + "-28410", job["metadata"]!["uid"]!.GetValue<string>());
    }
}
