using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;

namespace ConfigInjector.TestSupport.Fakes;

/// <summary>
/// RBAC refusals per namespace, as the API server answers a request its authorizer denies: 403 with a Status of reason
/// <c>Forbidden</c> naming the user, verb, resource and namespace
/// (https://kubernetes.io/docs/reference/access-authn-authz/authorization/#review-your-request-attributes for the verbs
/// of each request; the message is the apiserver's <c>forbidden</c> text, e.g. <c>kubectl get secrets -n x</c> without the right).
/// </summary>
public sealed partial class KubeApiFake
{
    private readonly ConcurrentDictionary<(string By, string Verb, string Resource, string Namespace), bool> _forbidden = new();

    /// <summary>The client named <paramref name="by"/> (its bearer token) may not <paramref name="verb"/> <paramref name="resource"/> in <paramref name="namespace"/>: a Role it lacks.</summary>
    public void Forbid(string by, string verb, string resource, string @namespace) => _forbidden[(by, verb, resource, @namespace)] = true;

    private async Task<bool> RefusedByRbacAsync(HttpContext context, string by, Route route)
    {
        if (_forbidden.IsEmpty || route.Namespace is null)
            return false;
        var verb = context.Request.Method switch
        {
            "GET" when route.Name is not null => "get",
            "GET" when context.Request.Query["watch"] == "true" => "watch",
            "GET" => "list",
            "POST" => "create",
            "PUT" => "update",
            "PATCH" => "patch",
            _ => "delete",
        };
        if (!_forbidden.ContainsKey((by, verb, route.Resource, route.Namespace)))
            return false;
        await StatusAsync(context, 403, "Forbidden",
            $"{route.Resource} is forbidden: User \"{by}\" cannot {verb} resource \"{route.Resource}\" in API group \"{(route.ApiVersion.Contains('/') ? route.ApiVersion.Split('/')[0] : "")}\" in the namespace \"{route.Namespace}\"");
        return true;
    }
}
