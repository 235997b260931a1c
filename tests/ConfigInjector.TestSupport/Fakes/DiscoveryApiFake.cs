using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ConfigInjector.TestSupport.Fakes;

/// <summary>
/// An empty cluster as <c>helm install --dry-run=client</c> sees it: the version, the discovery documents for the kinds
/// the chart renders, and 404 for every object (nothing installed yet). Helm needs a reachable API server even for a
/// client-side dry run, and only an install prints the chart's NOTES.txt. Discovery as the API server serves it
/// (https://kubernetes.io/docs/concepts/overview/kubernetes-api/#discovery-api): <c>/api</c> (APIVersions),
/// <c>/apis</c> (APIGroupList), <c>/api/v1</c> and <c>/apis/GROUP/VERSION</c> (APIResourceList). Anything but a GET
/// is refused with 405: a dry run must never write.
/// </summary>
public sealed class DiscoveryApiFake : IAsyncDisposable
{
    private static readonly Dictionary<string, (string Resource, string Kind, bool Namespaced)[]> Groups = new(StringComparer.Ordinal)
    {
        ["v1"] = [("secrets", "Secret", true), ("configmaps", "ConfigMap", true), ("serviceaccounts", "ServiceAccount", true), ("services", "Service", true), ("namespaces", "Namespace", false)],
        ["apps/v1"] = [("deployments", "Deployment", true)],
        ["policy/v1"] = [("poddisruptionbudgets", "PodDisruptionBudget", true)],
        ["rbac.authorization.k8s.io/v1"] = [("clusterroles", "ClusterRole", false), ("clusterrolebindings", "ClusterRoleBinding", false), ("roles", "Role", true), ("rolebindings", "RoleBinding", true)],
        ["admissionregistration.k8s.io/v1"] = [("mutatingwebhookconfigurations", "MutatingWebhookConfiguration", false)],
        ["networking.k8s.io/v1"] = [("networkpolicies", "NetworkPolicy", true)],
        ["apiextensions.k8s.io/v1"] = [("customresourcedefinitions", "CustomResourceDefinition", false)],
        ["cert-manager.io/v1"] = [("certificates", "Certificate", true), ("issuers", "Issuer", true)],
        ["monitoring.coreos.com/v1"] = [("servicemonitors", "ServiceMonitor", true)],
        ["configinjector.io/v1alpha1"] = [("secretpolicies", "SecretPolicy", false), ("configprofiles", "ConfigProfile", false)],
    };

    private readonly WebApplication _app;

    private DiscoveryApiFake(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    public static async Task<DiscoveryApiFake> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.Map("/{**path}", Handle);
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return new DiscoveryApiFake(app, address);
    }

    /// <summary>A kubeconfig naming this server, so Helm reads no other.</summary>
    public string WriteKubeconfig(string folder)
    {
        var file = Path.Combine(folder, "kubeconfig");
        File.WriteAllText(file, $$"""
            apiVersion: v1
            kind: Config
            clusters: [{ name: fake, cluster: { server: "{{Address.ToString().TrimEnd('/')}}" } }]
            users: [{ name: fake, user: { token: fake-token } }]
            contexts: [{ name: fake, context: { cluster: fake, user: fake } }]
            current-context: fake
            """);
        return file;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static IResult Handle(HttpContext context)
    {
        if (!HttpMethods.IsGet(context.Request.Method))
            return Status(405, "MethodNotAllowed", $"{context.Request.Method} is not allowed in a dry run");
        var path = context.Request.Path.Value!.TrimEnd('/');
        if (path == "/version")
            return Json(new JsonObject { ["major"] = "1", ["minor"] = "30", ["gitVersion"] = "v1.30.0", ["platform"] = "linux/amd64" });
        if (path == "/api")
            return Json(new JsonObject { ["kind"] = "APIVersions", ["versions"] = new JsonArray("v1"), ["serverAddressByClientCIDRs"] = new JsonArray() });
        if (path == "/apis")
            return Json(GroupList());
        var groupVersion = path == "/api/v1" ? "v1" : path.StartsWith("/apis/", StringComparison.Ordinal) ? path["/apis/".Length..] : null;
        if (groupVersion is not null && Groups.TryGetValue(groupVersion, out var resources))
            return Json(ResourceList(groupVersion, resources));
        return Status(404, "NotFound", $"{path} not found");
    }

    private static JsonObject GroupList()
    {
        var groups = new JsonArray();
        foreach (var groupVersion in Groups.Keys.Where(g => g.Contains('/', StringComparison.Ordinal)))
        {
            var (group, version) = (groupVersion[..groupVersion.IndexOf('/', StringComparison.Ordinal)], groupVersion[(groupVersion.IndexOf('/', StringComparison.Ordinal) + 1)..]);
            var entry = new JsonObject { ["groupVersion"] = groupVersion, ["version"] = version };
            groups.Add(new JsonObject { ["name"] = group, ["versions"] = new JsonArray(entry.DeepClone()), ["preferredVersion"] = entry });
        }
        return new JsonObject { ["kind"] = "APIGroupList", ["apiVersion"] = "v1", ["groups"] = groups };
    }

    private static JsonObject ResourceList(string groupVersion, (string Resource, string Kind, bool Namespaced)[] resources)
    {
        var list = new JsonArray();
        foreach (var (resource, kind, namespaced) in resources)
        {
            list.Add(new JsonObject
            {
                ["name"] = resource,
                ["singularName"] = kind.ToLowerInvariant(),
                ["namespaced"] = namespaced,
                ["kind"] = kind,
                ["verbs"] = new JsonArray("create", "delete", "get", "list", "patch", "update", "watch"),
            });
        }
        return new JsonObject { ["kind"] = "APIResourceList", ["apiVersion"] = "v1", ["groupVersion"] = groupVersion, ["resources"] = list };
    }

    private static IResult Json(JsonObject body) => Results.Text(body.ToJsonString(), "application/json");

    private static IResult Status(int code, string reason, string message) => Results.Text(
        new JsonObject { ["kind"] = "Status", ["apiVersion"] = "v1", ["status"] = "Failure", ["message"] = message, ["reason"] = reason, ["code"] = code }.ToJsonString(),
        "application/json", statusCode: code);
}
