using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace ConfigInjector.TestSupport.Fakes;

/// <summary>
/// Service accounts and their tokens, as the API server issues them:
/// - POST serviceaccounts/&lt;name&gt;/token, a TokenRequest (authentication.k8s.io/v1,
///   https://kubernetes.io/docs/reference/kubernetes-api/authentication-resources/token-request-v1/): spec.audiences
///   (empty means the API server's own), spec.expirationSeconds (3600 when unset; under 600 or over 2^32 is refused
///   422 Invalid, as pkg/apis/authentication/validation does); 404 for a service account that does not exist;
///   status.token and status.expirationTimestamp in a 201.
/// - The token is a signed JWT with the claims of a service-account token
///   (https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/#bound-service-account-tokens):
///   iss, sub <c>system:serviceaccount:&lt;ns&gt;:&lt;name&gt;</c>, aud, iat, nbf, exp, and <c>kubernetes.io</c> with the
///   namespace and the service account's name and uid. TokenReview knows it until it expires, with the
///   service account's user, groups and uid.
/// </summary>
public sealed partial class KubeApiFake
{
    /// <summary>The issuer of service-account tokens (the API server's <c>--service-account-issuer</c>).</summary>
    public const string ServiceAccountIssuer = "https://kubernetes.default.svc.cluster.local";

    private static readonly ECDsa SigningKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    private sealed record IssuedToken(string User, string Uid, string[] Audiences, DateTimeOffset ExpiresAt, string[] Groups);

    private readonly ConcurrentDictionary<string, IssuedToken> _issued = new(StringComparer.Ordinal);

    /// <summary>The clock tokens are issued and expire by.</summary>
    public TimeProvider Time { get; set; } = TimeProvider.System;

    /// <summary>Every service-account token handed out so far: no log, Event or message may hold one.</summary>
    public IReadOnlyCollection<string> IssuedTokens => [.. _issued.Keys];

    /// <summary>A service account in <paramref name="namespace"/>, with annotations (e.g. <c>configinjector.io/vault-role</c>).</summary>
    public JsonObject AddServiceAccount(string @namespace, string name, IReadOnlyDictionary<string, string>? annotations = null)
    {
        var metadata = new JsonObject { ["name"] = name, ["namespace"] = @namespace, ["uid"] = Guid.NewGuid().ToString() };
        if (annotations is not null)
            metadata["annotations"] = new JsonObject(annotations.Select(a => KeyValuePair.Create(a.Key, (JsonNode?)a.Value)));
        return Put("serviceaccounts", new JsonObject { ["apiVersion"] = "v1", ["kind"] = "ServiceAccount", ["metadata"] = metadata });
    }

    /// <summary>The claims of a token this server issued, when its signature is this server's (what an OIDC relying party checks with the issuer's keys).</summary>
    public static JsonObject? VerifiedClaims(string jwt)
    {
        var parts = jwt.Split('.');
        if (parts.Length != 3 || !SigningKey.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), Base64Url.DecodeFromChars(parts[2]), HashAlgorithmName.SHA256))
            return null;
        return JsonNode.Parse(Base64Url.DecodeFromChars(parts[1]))?.AsObject();
    }

    private async Task TokenRequestAsync(HttpContext context, Route route)
    {
        var body = (await JsonNode.ParseAsync(context.Request.Body))?.AsObject();
        if (body?["kind"]?.GetValue<string>() != "TokenRequest" || body["apiVersion"]?.GetValue<string>() != "authentication.k8s.io/v1")
        {
            await StatusAsync(context, 400, "BadRequest", "the body of a token request must be an authentication.k8s.io/v1 TokenRequest");
            return;
        }
        var spec = (JsonObject)(body["spec"] ??= new JsonObject());
        var seconds = spec["expirationSeconds"]?.GetValue<long>() ?? 3600;
        string? invalid = seconds < 600 ? "may not specify a duration less than 10 minutes" : seconds > 1L << 32 ? "may not specify a duration larger than 2^32 seconds" : null;
        if (invalid is not null)
        {
            await StatusAsync(context, 422, "Invalid", $"TokenRequest.authentication.k8s.io \"{route.Name}\" is invalid: spec.expirationSeconds: Invalid value: {seconds}: {invalid}");
            return;
        }
        var account = Get("serviceaccounts", route.Namespace, route.Name!);
        if (account is null)
        {
            await StatusAsync(context, 404, "NotFound", $"serviceaccounts \"{route.Name}\" not found");
            return;
        }
        var audiences = spec["audiences"]?.AsArray().Select(a => a!.GetValue<string>()).ToArray() is { Length: > 0 } asked ? asked : [ApiServerAudience];
        var uid = account["metadata"]!["uid"]!.GetValue<string>();
        var now = Time.GetUtcNow();
        var expires = now.AddSeconds(seconds);
        var token = Sign(new JsonObject
        {
            ["aud"] = new JsonArray([.. audiences.Select(a => (JsonNode)a)]),
            ["exp"] = expires.ToUnixTimeSeconds(),
            ["iat"] = now.ToUnixTimeSeconds(),
            ["nbf"] = now.ToUnixTimeSeconds(),
            ["iss"] = ServiceAccountIssuer,
            ["jti"] = Guid.NewGuid().ToString(),
            ["sub"] = $"system:serviceaccount:{route.Namespace}:{route.Name}",
            ["kubernetes.io"] = new JsonObject
            {
                ["namespace"] = route.Namespace,
                ["serviceaccount"] = new JsonObject { ["name"] = route.Name, ["uid"] = uid },
            },
        });
        _issued[token] = new IssuedToken($"system:serviceaccount:{route.Namespace}:{route.Name}", uid, audiences, expires,
            ["system:serviceaccounts", $"system:serviceaccounts:{route.Namespace}", "system:authenticated"]);
        spec["expirationSeconds"] = seconds;
        spec["audiences"] = new JsonArray([.. audiences.Select(a => (JsonNode)a)]);
        body["metadata"] = new JsonObject { ["name"] = route.Name, ["namespace"] = route.Namespace, ["creationTimestamp"] = Timestamp(now) };
        body["status"] = new JsonObject { ["token"] = token, ["expirationTimestamp"] = Timestamp(expires) };
        await JsonAsync(context, 201, body);
    }

    /// <summary>TokenReview's answer for a token this server issued to a service account; null for any other token.</summary>
    private JsonObject? ReviewIssued(string token, string[] asked)
    {
        if (!_issued.TryGetValue(token, out var issued))
            return null;
        if (issued.ExpiresAt <= Time.GetUtcNow())
            return new JsonObject { ["authenticated"] = false, ["error"] = "[invalid bearer token, service account token has expired]" };
        if (issued.Audiences.Intersect(asked).ToArray() is not { Length: > 0 } shared)
            return new JsonObject { ["authenticated"] = false, ["error"] = "[invalid bearer token, token audiences is invalid for the target audiences]" };
        return new JsonObject
        {
            ["authenticated"] = true,
            ["user"] = new JsonObject
            {
                ["username"] = issued.User,
                ["uid"] = issued.Uid,
                ["groups"] = new JsonArray([.. issued.Groups.Select(g => (JsonNode)g)]),
            },
            ["audiences"] = new JsonArray([.. shared.Select(a => (JsonNode)a)]),
        };
    }

    private static string Sign(JsonObject claims)
    {
        var header = Base64Url.EncodeToString(Encoding.UTF8.GetBytes("""{"alg":"ES256","typ":"JWT","kid":"kube-api-fake"}"""));
        var payload = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var signature = SigningKey.SignData(Encoding.ASCII.GetBytes(header + "." + payload), HashAlgorithmName.SHA256);
        return $"{header}.{payload}.{Base64Url.EncodeToString(signature)}";
    }

    private static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
}
