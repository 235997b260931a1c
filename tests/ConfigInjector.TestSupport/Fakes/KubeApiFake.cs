using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ConfigInjector.TestSupport.Fakes;

/// <summary>
/// A stateful in-process kube-apiserver for the resources ConfigInjector touches, on loopback, following the
/// API conventions (https://kubernetes.io/docs/reference/using-api/api-concepts/):
/// - one resourceVersion counter for every write; PUT with a stale metadata.resourceVersion gets 409 Conflict,
///   POST of an existing name 409 AlreadyExists, a missing object 404 NotFound — all as Status objects
///   (https://github.com/kubernetes/community/blob/master/contributors/devel/sig-architecture/api-conventions.md#response-status-kind)
/// - list with labelSelector (equality and existence) and fieldSelector metadata.name; list returns the collection's resourceVersion
/// - watch=true as KubeApiFake.Watch.cs has it: from a resourceVersion within a bounded history, BOOKMARK events,
///   410 Gone ("Expired") for a resourceVersion older than the history
/// - PATCH with application/merge-patch+json and strategic-merge-patch+json (applied as a JSON merge patch, RFC 7386)
/// - metadata.generation bumped when spec changes; ownerReferences stored as given.
/// - the status subresource as the API server has it (see KubeApiFake.Status.cs).
/// - POST tokenreviews (authentication.k8s.io/v1): the token's user and groups from <see cref="AddToken"/>, else
///   status.authenticated false (https://kubernetes.io/docs/reference/kubernetes-api/authentication-resources/token-review-v1/);
///   audience-aware as the API server is: spec.audiences (empty means the API server's own, <see cref="ApiServerAudience"/>)
///   must meet the audiences the token was minted for, and status.audiences is that intersection
/// Faults: <see cref="FailNext"/> (500s, 409s…), <see cref="FailFrom"/> (one client's requests), <see cref="DropWatches"/>, <see cref="Compact"/>.
/// </summary>
public sealed partial class KubeApiFake : IAsyncDisposable
{
    private static readonly Dictionary<string, string> Kinds = new()
    {
        ["secrets"] = "Secret",
        ["pods"] = "Pod",
        ["events"] = "Event",
        ["namespaces"] = "Namespace",
        ["replicasets"] = "ReplicaSet",
        ["deployments"] = "Deployment",
        ["statefulsets"] = "StatefulSet",
        ["daemonsets"] = "DaemonSet",
        ["jobs"] = "Job",
        ["cronjobs"] = "CronJob",
        ["tokenreviews"] = "TokenReview",
        ["serviceaccounts"] = "ServiceAccount",
        ["leases"] = "Lease",
        ["secretpolicies"] = "SecretPolicy",
        ["configprofiles"] = "ConfigProfile",
    };

    private sealed record Stored(string Resource, string? Namespace, string Name, JsonObject Object);

    private sealed record Change(long Version, string Type, Stored Item);

    /// <summary>A fault for requests it <see cref="Matches"/> (by, method, resource): the next <see cref="Remaining"/> of them, or all while <see cref="Lasting"/>.</summary>
    private sealed record Fault(Func<string, string, string, bool> Matches, int Status, string Reason, bool Lasting = false)
    {
        public int Remaining;
    }

    private readonly Lock _lock = new();
    private readonly Dictionary<(string Resource, string Namespace, string Name), Stored> _objects = [];
    private readonly Queue<Change> _changes = new();
    private readonly List<Channel<Change>> _watchers = [];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _openWatches = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _requests = new();
    private readonly ConcurrentQueue<string> _requestsBy = new();
    private readonly List<Fault> _faults = [];
    private readonly List<(string Method, string Resource, string? Name, Action Action)> _before = [];
    private WebApplication? _app;
    private long _version = 1;
    private long _compactedAt;
    private int _gone;
    private int _listPages;
    private CancellationTokenSource _dropWatches = new();

    public Uri Address { get; private set; } = null!;
    public IReadOnlyCollection<string> Requests => _requests;

    /// <summary>Each request with the bearer token that sent it ("token METHOD resource ns/name").</summary>
    public IReadOnlyCollection<string> RequestsBy => _requestsBy;
    public TimeSpan BookmarkInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The audience of a token minted for the API server itself (<c>kubectl create token</c> without <c>--audience</c>).</summary>
    public const string ApiServerAudience = "https://kubernetes.default.svc.cluster.local";

    private readonly ConcurrentDictionary<string, (string User, string[] Groups, string[] Audiences)> _tokens = new(StringComparer.Ordinal);

    /// <summary>A bearer token for the API server that TokenReview authenticates as <paramref name="user"/> in <paramref name="groups"/>.</summary>
    public void AddToken(string token, string user, params string[] groups) => _tokens[token] = (user, groups, [ApiServerAudience]);

    /// <summary>A bearer token minted for <paramref name="audience"/> (<c>kubectl create token … --audience</c>).</summary>
    public void AddTokenFor(string audience, string token, string user, params string[] groups) => _tokens[token] = (user, groups, [audience]);

    /// <summary>How long each TokenReview takes to answer (an API server under load).</summary>
    public TimeSpan TokenReviewDelay { get; set; }

    /// <summary>How long each create takes to answer (an API server under load, etcd slow to commit).</summary>
    public TimeSpan CreateDelay { get; set; }

    /// <summary>How long each GET of a service account takes to answer (an API server that has stopped answering).</summary>
    public TimeSpan ServiceAccountGetDelay { get; set; }

    /// <summary>GETs of a service account held by <see cref="ServiceAccountGetDelay"/> whose client has not given up yet.</summary>
    public int ServiceAccountGetsWaiting => Volatile.Read(ref _serviceAccountGetsWaiting);

    private int _serviceAccountGetsWaiting;

    public static async Task<KubeApiFake> StartAsync()
    {
        var fake = new KubeApiFake();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.Map("/{**path}", fake.HandleAsync);
        await app.StartAsync();
        fake._app = app;
        fake.Address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return fake;
    }

    public async ValueTask DisposeAsync()
    {
        await _dropWatches.CancelAsync();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    /// <summary>Counts requests such as <c>"PUT secrets"</c> or <c>"POST events"</c>.</summary>
    public int Count(string methodAndResource) => _requests.Count(r => r.StartsWith(methodAndResource + " ", StringComparison.Ordinal) || r == methodAndResource);

    /// <summary>
    /// The next <paramref name="count"/> requests with this method on this resource fail with <paramref name="status"/>;
    /// with <paramref name="by"/>, only those sent with that bearer token (so a replica's own background reads cannot
    /// take the fault meant for another client).
    /// </summary>
    public void FailNext(string method, string resource, int status, int count = 1, string reason = "InternalError", string? by = null)
    {
        lock (_lock)
            _faults.Add(new Fault((b, m, r) => m == method && r == resource && (by is null || b == by), status, reason) { Remaining = count });
    }

    /// <summary>
    /// Every <paramref name="method"/> on <paramref name="resource"/> from the client named <paramref name="by"/> (its bearer
    /// token, as <see cref="RequestsBy"/> names it) fails with <paramref name="status"/> until the handle is disposed: one
    /// replica cut off from the API server while the others still reach it.
    /// </summary>
    public IDisposable FailFrom(string by, string method, string resource, int status = 503, string reason = "ServiceUnavailable")
    {
        var fault = new Fault((b, m, r) => b == by && m == method && r == resource, status, reason, Lasting: true);
        lock (_lock)
            _faults.Add(fault);
        return new Healed(() =>
        {
            lock (_lock)
                _faults.Remove(fault);
        });
    }

    private sealed class Healed(Action heal) : IDisposable
    {
        public void Dispose() => heal();
    }

    /// <summary>
    /// Runs <paramref name="action"/> once, just before the next <paramref name="method"/> on that object is handled:
    /// someone else's write landing between a client's read and its write (a genuine resourceVersion conflict).
    /// A null <paramref name="name"/> is the collection: the next list or watch.
    /// </summary>
    public void BeforeNext(string method, string resource, string? name, Action action)
    {
        lock (_lock)
            _before.Add((method, resource, name, action));
    }

    /// <summary>Watches open now on <paramref name="resource"/> by the client named <paramref name="by"/> (its bearer token, as <see cref="RequestsBy"/> names it).</summary>
    public int OpenWatches(string resource, string by) => _openWatches.GetValueOrDefault($"{by} {resource}");

    /// <summary>Ends every open watch, as an API server restart or a load balancer timeout would.</summary>
    public void DropWatches()
    {
        lock (_lock)
        {
            var old = _dropWatches;
            _dropWatches = new CancellationTokenSource();
            old.Cancel();
        }
    }

    /// <summary>
    /// Forgets the change history and ends every open watch, as an etcd compaction followed by an API server restart:
    /// every resourceVersion a client holds is now too old, so its next watch gets 410 Gone and it must relist.
    /// </summary>
    public void Compact()
    {
        lock (_lock)
        {
            var old = _dropWatches;
            _dropWatches = new CancellationTokenSource();
            old.Cancel();
            _compactedAt = Interlocked.Increment(ref _version);
            _changes.Clear();
        }
    }

    /// <summary>Faults set with <see cref="FailNext"/> that have not fired yet: a test shows its fault happened by this being 0.</summary>
    public int PendingFaults
    {
        get
        {
            lock (_lock)
                return _faults.Where(f => !f.Lasting).Sum(f => f.Remaining);
        }
    }

    /// <summary>How many list pages were served.</summary>
    public int ListPages => Volatile.Read(ref _listPages);

    /// <summary>How many watches were answered with 410 Gone.</summary>
    public int GoneAnswers => Volatile.Read(ref _gone);

    public JsonObject Put(string resource, JsonObject item)
    {
        lock (_lock)
        {
            var metadata = (JsonObject)item["metadata"]!;
            return Write(resource, metadata["namespace"]?.GetValue<string>(), metadata["name"]!.GetValue<string>(), item, "ADDED");
        }
    }

    public JsonObject? Get(string resource, string? @namespace, string name)
    {
        lock (_lock)
            return _objects.TryGetValue((resource, @namespace ?? "", name), out var stored) ? (JsonObject)stored.Object.DeepClone() : null;
    }

    public IReadOnlyList<JsonObject> All(string resource, string? @namespace = null)
    {
        lock (_lock)
            return [.. _objects.Values.Where(o => o.Resource == resource && (@namespace is null || o.Namespace == @namespace)).Select(o => (JsonObject)o.Object.DeepClone())];
    }

    /// <summary>
    /// Changes an object as a controller or a user would (e.g. a Deployment's status, a policy's spec), with a new
    /// resourceVersion, a watch event, and metadata.generation moved as the change warrants.
    /// </summary>
    public void Update(string resource, string? @namespace, string name, Action<JsonObject> change)
    {
        lock (_lock)
        {
            var stored = _objects[(resource, @namespace ?? "", name)].Object;
            var current = (JsonObject)stored.DeepClone();
            change(current);
            Write(resource, @namespace, name, current, "MODIFIED", stored);
        }
    }

    public void Delete(string resource, string? @namespace, string name)
    {
        lock (_lock)
        {
            if (_objects.Remove((resource, @namespace ?? "", name), out var stored))
                Publish("DELETED", stored with { Object = Stamp(stored.Object) });
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var route = Route.Parse(context.Request.Path.Value!);
        if (route is null)
        {
            await StatusAsync(context, 404, "NotFound", "the server could not find the requested resource");
            return;
        }
        var logged = $"{context.Request.Method} {route.Resource}{(route.Subresource is null ? "" : "/" + route.Subresource)} {route.Namespace}/{route.Name}{(context.Request.Query["watch"] == "true" ? " watch" : "")}";
        _requests.Enqueue(logged);
        var by = context.Request.Headers.Authorization.ToString().Replace("Bearer ", "", StringComparison.Ordinal);
        _requestsBy.Enqueue($"{by} {logged}");
        Action? before = null;
        lock (_lock)
        {
            var hook = _before.FindIndex(b => b.Method == context.Request.Method && b.Resource == route.Resource && b.Name == route.Name);
            if (hook >= 0)
            {
                before = _before[hook].Action;
                _before.RemoveAt(hook);
            }
        }
        before?.Invoke();
        lock (_lock)
        {
            var fault = _faults.FirstOrDefault(f => (f.Lasting || f.Remaining > 0) && f.Matches(by, context.Request.Method, route.Resource));
            if (fault is not null)
            {
                if (!fault.Lasting)
                    fault.Remaining--;
                context.Items["fault"] = fault;
            }
        }
        if (context.Items["fault"] is Fault injected)
        {
            await StatusAsync(context, injected.Status, injected.Reason, $"injected fault {injected.Status}");
            return;
        }
        if (await RefusedByRbacAsync(context, by, route))
            return;

        if (context.Request.Method == "GET" && route is { Resource: "serviceaccounts", Subresource: null, Name: not null } && ServiceAccountGetDelay > TimeSpan.Zero)
        {
            Interlocked.Increment(ref _serviceAccountGetsWaiting);
            try
            {
                await Task.Delay(ServiceAccountGetDelay, context.RequestAborted);
            }
            finally
            {
                Interlocked.Decrement(ref _serviceAccountGetsWaiting);
            }
        }
        if (context.Request.Method == "POST" && route is { Resource: "serviceaccounts", Subresource: "token", Name: not null })
        {
            await TokenRequestAsync(context, route);
            return;
        }
        if (route.Subresource is not null && !HasSubresource(route))
        {
            await StatusAsync(context, 404, "NotFound", "the server could not find the requested resource");
            return;
        }
        switch (context.Request.Method)
        {
            case "POST" when route.Subresource is not null:
            case "DELETE" when route.Subresource is not null:
                await StatusAsync(context, 405, "MethodNotAllowed", "method not allowed");
                break;
            case "POST" when route.Resource == "tokenreviews":
                await TokenReviewAsync(context);
                break;
            case "GET" when route.Name is null && context.Request.Query["watch"] == "true":
                await WatchAsync(context, route);
                break;
            case "GET" when route.Name is null:
                await ListAsync(context, route);
                break;
            case "GET":
                await GetAsync(context, route);
                break;
            case "POST":
                await CreateAsync(context, route);
                break;
            case "PUT":
                await ReplaceAsync(context, route);
                break;
            case "PATCH":
                await PatchAsync(context, route);
                break;
            case "DELETE":
                await DeleteAsync(context, route);
                break;
            default:
                await StatusAsync(context, 405, "MethodNotAllowed", "method not allowed");
                break;
        }
    }

    private async Task TokenReviewAsync(HttpContext context)
    {
        var review = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
        var token = review["spec"]?["token"]?.GetValue<string>() ?? "";
        // The API server refuses an empty token with 400 before any authenticator runs (kubernetes/kubernetes,
        // pkg/registry/authentication/tokenreview/storage.go, TokenREST.Create), not with authenticated: false.
        if (token.Length == 0)
        {
            await StatusAsync(context, 400, "BadRequest", "token is required for TokenReview in authentication");
            return;
        }
        var asked = review["spec"]?["audiences"]?.AsArray().Select(a => a!.GetValue<string>()).ToArray() is { Length: > 0 } given ? given : [ApiServerAudience];
        await Task.Delay(TokenReviewDelay, context.RequestAborted);
        if (ReviewIssued(token, asked) is { } issued)
            review["status"] = issued;
        else if (!_tokens.TryGetValue(token, out var who))
            review["status"] = new JsonObject { ["authenticated"] = false, ["error"] = "[invalid bearer token, token not recognised]" };
        else if (who.Audiences.Intersect(asked).ToArray() is not { Length: > 0 } shared)
            review["status"] = new JsonObject { ["authenticated"] = false, ["error"] = $"[invalid bearer token, token audiences {Json(who.Audiences)} is invalid for the target audiences {Json(asked)}]" };
        else
            review["status"] = new JsonObject
            {
                ["authenticated"] = true,
                ["user"] = new JsonObject { ["username"] = who.User, ["groups"] = new JsonArray([.. who.Groups.Select(g => (JsonNode)g)]) },
                ["audiences"] = new JsonArray([.. shared.Select(a => (JsonNode)a)]),
            };
        await JsonAsync(context, 201, review);

        static string Json(string[] audiences) => new JsonArray([.. audiences.Select(a => (JsonNode)a)]).ToJsonString();
    }

    private async Task GetAsync(HttpContext context, Route route)
    {
        var found = Get(route.Resource, route.Namespace, route.Name!);
        if (found is null)
            await StatusAsync(context, 404, "NotFound", $"{route.Resource} \"{route.Name}\" not found");
        else
            await JsonAsync(context, 200, found);
    }

    private async Task ListAsync(HttpContext context, Route route)
    {
        var selector = LabelSelector.Parse(context.Request.Query["labelSelector"]);
        var fieldName = ((string?)context.Request.Query["fieldSelector"])?.Replace("metadata.name=", "", StringComparison.Ordinal);
        // Chunked lists ("Retrieving large results sets in chunks", API concepts): limit, and a continue token that
        // says where the next page starts (here: after this namespace/name).
        var limit = int.TryParse(context.Request.Query["limit"], out var l) && l > 0 ? l : int.MaxValue;
        string? after = null;
        if ((string?)context.Request.Query["continue"] is { Length: > 0 } token)
        {
            // A token the server did not hand out is refused, not read from the start (the apiserver's
            // "continue key is not valid" BadRequest).
            after = ContinueFrom(token);
            if (after is null)
            {
                await StatusAsync(context, 400, "BadRequest", $"continue key is not valid: {token}");
                return;
            }
        }
        List<Stored> matching;
        long version;
        lock (_lock)
        {
            matching = [.. _objects.Values
                .Where(o => o.Resource == route.Resource && (route.Namespace is null || o.Namespace == route.Namespace))
                .Where(o => selector.Matches(o.Object) && (string.IsNullOrEmpty(fieldName) || o.Name == fieldName))
                .Where(o => after is null || string.CompareOrdinal($"{o.Namespace}/{o.Name}", after) > 0)
                .OrderBy(o => $"{o.Namespace}/{o.Name}", StringComparer.Ordinal)];
            version = _version;
        }
        var page = matching.Take(limit).ToList();
        var metadata = new JsonObject { ["resourceVersion"] = version.ToString(CultureInfo.InvariantCulture) };
        if (matching.Count > page.Count)
            metadata["continue"] = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{page[^1].Namespace}/{page[^1].Name}"));
        Interlocked.Increment(ref _listPages);
        // Written item by item, as the API server streams a list: a client cannot count on the page arriving at once.
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.Body);
        writer.WriteStartObject();
        writer.WriteString("kind", Kinds[route.Resource] + "List");
        writer.WriteString("apiVersion", route.ApiVersion);
        writer.WritePropertyName("metadata");
        metadata.WriteTo(writer);
        writer.WriteStartArray("items");
        foreach (var stored in page)
        {
            stored.Object.DeepClone().WriteTo(writer);
            await writer.FlushAsync();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
        await writer.FlushAsync();
    }

    private static string? ContinueFrom(string token)
    {
        var bytes = new byte[token.Length];
        return Convert.TryFromBase64String(token, bytes, out var length) ? System.Text.Encoding.UTF8.GetString(bytes, 0, length) : null;
    }

    private async Task CreateAsync(HttpContext context, Route route)
    {
        await Task.Delay(CreateDelay, context.RequestAborted);
        var body = (JsonObject)(await JsonNode.ParseAsync(context.Request.Body))!;
        var metadata = (JsonObject)(body["metadata"] ??= new JsonObject());
        var name = metadata["name"]?.GetValue<string>();
        if (string.IsNullOrEmpty(name) && metadata["generateName"]?.GetValue<string>() is { } prefix)
            metadata["name"] = name = prefix + Guid.NewGuid().ToString("N")[..5];
        if (context.Request.Query["dryRun"] == "All")
        {
            await JsonAsync(context, 201, body);
            return;
        }
        JsonObject? created = null;
        lock (_lock)
        {
            if (!_objects.ContainsKey((route.Resource, route.Namespace ?? "", name!)))
            {
                metadata["namespace"] = route.Namespace;
                metadata["uid"] = Guid.NewGuid().ToString();
                metadata["creationTimestamp"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
                KeepStatus(route.Resource, body, null);
                created = Write(route.Resource, route.Namespace, name!, body, "ADDED");
            }
        }
        if (created is null)
            await StatusAsync(context, 409, "AlreadyExists", $"{route.Resource} \"{name}\" already exists");
        else
            await JsonAsync(context, 201, created);
    }

    private async Task ReplaceAsync(HttpContext context, Route route)
    {
        var body = (JsonObject)(await JsonNode.ParseAsync(context.Request.Body))!;
        if (body["metadata"]?["name"]?.GetValue<string>() is { } named && named != route.Name)
        {
            await StatusAsync(context, 400, "BadRequest", $"the name of the object ({named}) does not match the name on the URL ({route.Name})");
            return;
        }
        await UpdateAsync(context, route, body["metadata"]?["resourceVersion"]?.GetValue<string>(), required: CustomResources.Contains(route.Resource), current =>
        {
            if (route.Subresource is not null)
                return OnlyStatus(current, body);
            var metadata = (JsonObject)body["metadata"]!;
            metadata["uid"] = current["metadata"]!["uid"]?.DeepClone();
            metadata["creationTimestamp"] = current["metadata"]!["creationTimestamp"]?.DeepClone();
            metadata["generation"] = current["metadata"]!["generation"]?.DeepClone();
            KeepStatus(route.Resource, body, current);
            return body;
        });
    }

    /// <summary>PATCH as a JSON merge patch (RFC 7386); a resourceVersion in the patch is a precondition, as the API server takes it.</summary>
    private async Task PatchAsync(HttpContext context, Route route)
    {
        // The API server answers a PATCH whose Content-Type is no patch type with 415
        // (https://kubernetes.io/docs/reference/using-api/api-concepts/#patch-and-apply). It also takes
        // json-patch+json and apply-patch+yaml, which this fake does not implement: refused too, rather than misapplied.
        var mediaType = context.Request.ContentType?.Split(';')[0].Trim();
        if (mediaType is not ("application/merge-patch+json" or "application/strategic-merge-patch+json"))
        {
            await StatusAsync(context, 415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got {mediaType})");
            return;
        }
        var patch = await JsonNode.ParseAsync(context.Request.Body);
        await UpdateAsync(context, route, patch?["metadata"]?["resourceVersion"]?.GetValue<string>(), required: false, current =>
        {
            var merged = (JsonObject)MergePatch(current.DeepClone(), patch)!;
            if (route.Subresource is not null)
                return OnlyStatus(current, merged);
            KeepStatus(route.Resource, merged, current);
            return merged;
        });
    }

    /// <summary>
    /// An update of a stored object: 404 when it is gone, 409 when <paramref name="sent"/> is not its resourceVersion,
    /// 422 when none was sent but one is <paramref name="required"/>; else <paramref name="next"/> of the stored object is written.
    /// </summary>
    private async Task UpdateAsync(HttpContext context, Route route, string? sent, bool required, Func<JsonObject, JsonObject> next)
    {
        (int Status, JsonObject? Result) outcome;
        lock (_lock)
        {
            if (!_objects.TryGetValue((route.Resource, route.Namespace ?? "", route.Name!), out var current))
                outcome = (404, null);
            else if (string.IsNullOrEmpty(sent) && required)
                outcome = (422, null);
            else if (!string.IsNullOrEmpty(sent) && sent != current.Object["metadata"]!["resourceVersion"]!.GetValue<string>())
                outcome = (409, null);
            else
                outcome = (200, Write(route.Resource, route.Namespace, route.Name!, next((JsonObject)current.Object.DeepClone()), "MODIFIED", current.Object));
        }
        await (outcome.Status switch
        {
            404 => StatusAsync(context, 404, "NotFound", $"{route.Resource} \"{route.Name}\" not found"),
            409 => StatusAsync(context, 409, "Conflict", $"Operation cannot be fulfilled on {route.Resource} \"{route.Name}\": the object has been modified; please apply your changes to the latest version and try again"),
            422 => StatusAsync(context, 422, "Invalid", $"{route.Resource} \"{route.Name}\" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update"),
            _ => JsonAsync(context, 200, outcome.Result!),
        });
    }

    /// <summary>DELETE with DeleteOptions: preconditions on uid and resourceVersion are checked, 409 when they fail.</summary>
    private async Task DeleteAsync(HttpContext context, Route route)
    {
        var options = context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0
            ? await JsonNode.ParseAsync(context.Request.Body) as JsonObject
            : null;
        var preconditions = options?["preconditions"];
        string? refusal = null;
        var existed = false;
        lock (_lock)
        {
            if (_objects.TryGetValue((route.Resource, route.Namespace ?? "", route.Name!), out var stored))
            {
                existed = true;
                var metadata = stored.Object["metadata"]!;
                if (preconditions?["uid"]?.GetValue<string>() is { } uid && uid != metadata["uid"]?.GetValue<string>())
                    refusal = $"Precondition failed: UID in precondition: {uid}, UID in object meta: {metadata["uid"]}";
                else if (preconditions?["resourceVersion"]?.GetValue<string>() is { } rv && rv != metadata["resourceVersion"]?.GetValue<string>())
                    refusal = $"Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {metadata["resourceVersion"]}";
                else
                    Delete(route.Resource, route.Namespace, route.Name!);
            }
        }
        if (refusal is not null)
            await StatusAsync(context, 409, "Conflict", refusal);
        else if (existed)
            await StatusAsync(context, 200, "", "deleted", "Success");
        else
            await StatusAsync(context, 404, "NotFound", $"{route.Resource} \"{route.Name}\" not found");
    }

    private JsonObject Write(string resource, string? @namespace, string name, JsonObject item, string type, JsonObject? previous = null)
    {
        var metadata = (JsonObject)(item["metadata"] ??= new JsonObject());
        metadata["name"] = name;
        if (@namespace is not null)
            metadata["namespace"] = @namespace;
        metadata["uid"] ??= Guid.NewGuid().ToString();
        var generation = previous?["metadata"]?["generation"]?.GetValue<long>() ?? 1;
        if (previous is not null && GenerationMoves(resource, previous, item))
            generation++;
        metadata["generation"] = generation;
        item["kind"] ??= Kinds[resource];
        var stamped = Stamp(item);
        var stored = new Stored(resource, @namespace, name, stamped);
        _objects[(resource, @namespace ?? "", name)] = stored;
        Publish(type, stored);
        return (JsonObject)stamped.DeepClone();
    }

    private JsonObject Stamp(JsonObject item)
    {
        var copy = (JsonObject)item.DeepClone();
        copy["metadata"]!["resourceVersion"] = Interlocked.Increment(ref _version).ToString(CultureInfo.InvariantCulture);
        return copy;
    }

    private void Publish(string type, Stored stored)
    {
        var change = new Change(long.Parse(stored.Object["metadata"]!["resourceVersion"]!.GetValue<string>(), CultureInfo.InvariantCulture), type, stored);
        Remember(change);
        foreach (var watcher in _watchers)
            watcher.Writer.TryWrite(change);
    }

    private static JsonNode? MergePatch(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObject)
            return patch?.DeepClone();
        var result = target as JsonObject ?? new JsonObject();
        foreach (var (key, value) in patchObject)
        {
            if (value is null)
                result.Remove(key);
            else
                result[key] = MergePatch(result[key]?.DeepClone(), value);
        }
        return result;
    }

    private static JsonObject StatusObject(int code, string reason, string message, string status = "Failure") => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject(),
        ["status"] = status,
        ["message"] = message,
        ["reason"] = reason,
        ["code"] = code,
    };

    private static Task StatusAsync(HttpContext context, int code, string reason, string message, string status = "Failure") =>
        JsonAsync(context, code, StatusObject(code, reason, message, status));

    private static async Task JsonAsync(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(body.ToJsonString()));
    }

    /// <param name="Subresource">The part after the name (<c>status</c>), null for the object itself.</param>
    private sealed record Route(string ApiVersion, string Resource, string? Namespace, string? Name, string? Subresource = null)
    {
        public static Route? Parse(string path)
        {
            var parts = path.Trim('/').Split('/');
            int rest;
            string apiVersion;
            if (parts.Length >= 3 && parts[0] == "api" && parts[1] == "v1")
            {
                apiVersion = "v1";
                rest = 2;
            }
            else if (parts.Length >= 4 && parts[0] == "apis")
            {
                apiVersion = $"{parts[1]}/{parts[2]}";
                rest = 3;
            }
            else
            {
                return null;
            }
            var tail = parts[rest..];
            Route? route = tail switch
            {
                ["namespaces"] => new Route(apiVersion, "namespaces", null, null),
                ["namespaces", var name] => new Route(apiVersion, "namespaces", null, name),
                ["namespaces", var ns, var resource] => new Route(apiVersion, resource, ns, null),
                ["namespaces", var ns, var resource, var name] => new Route(apiVersion, resource, ns, name),
                ["namespaces", var ns, var resource, var name, var subresource] => new Route(apiVersion, resource, ns, name, subresource),
                [var resource] => new Route(apiVersion, resource, null, null),
                [var resource, var name] => new Route(apiVersion, resource, null, name),
                [var resource, var name, var subresource] => new Route(apiVersion, resource, null, name, subresource),
                _ => null,
            };
            return route is not null && Kinds.ContainsKey(route.Resource) ? route : null;
        }
    }

    /// <summary>Equality-based label selectors: <c>a=b</c>, <c>a==b</c>, <c>a!=b</c>, <c>a</c>, <c>!a</c>, comma-joined.</summary>
    private sealed record LabelSelector(IReadOnlyList<Func<JsonObject?, bool>> Requirements)
    {
        public static LabelSelector Parse(string? text)
        {
            var requirements = new List<Func<JsonObject?, bool>>();
            foreach (var term in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (term.Contains("!=", StringComparison.Ordinal))
                {
                    var (key, value) = Split(term, "!=");
                    requirements.Add(labels => labels?[key]?.GetValue<string>() != value);
                }
                else if (term.Contains('='))
                {
                    var (key, value) = Split(term.Replace("==", "=", StringComparison.Ordinal), "=");
                    requirements.Add(labels => labels?[key]?.GetValue<string>() == value);
                }
                else if (term.StartsWith('!'))
                {
                    requirements.Add(labels => labels?.ContainsKey(term[1..]) != true);
                }
                else
                {
                    requirements.Add(labels => labels?.ContainsKey(term) == true);
                }
            }
            return new LabelSelector(requirements);
        }

        public bool Matches(JsonObject item) => Requirements.All(r => r(item["metadata"]?["labels"] as JsonObject));

        private static (string Key, string Value) Split(string term, string separator)
        {
            var index = term.IndexOf(separator, StringComparison.Ordinal);
            return (term[..index], term[(index + separator.Length)..]);
        }
    }
}
