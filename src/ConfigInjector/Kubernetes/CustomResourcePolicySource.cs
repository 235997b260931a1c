using System.Text.Json;
using ConfigInjector.Core.Planning;
using ConfigInjector.Core.Policies;
using ConfigInjector.Policies;
using ConfigInjector.Sync;
using k8s;

namespace ConfigInjector.Kubernetes;

/// <summary>
/// SecretPolicies and ConfigProfiles as cluster-scoped custom resources, watched live by informers in every replica
/// (admission needs them everywhere): a change applies to the next admission. Each object is validated by the
/// same reader as the policy files; an invalid one is logged with its name and field and left out. What was judged of
/// each object (<see cref="Verdicts"/>) is what the leader writes into the objects' status.
/// </summary>
/// <param name="backends">The install's backends, to tell on an object that names another (null: not told).</param>
internal sealed partial class CustomResourcePolicySource(IKubernetes client, KubernetesTimings timings, TimeProvider time, ILogger<CustomResourcePolicySource> log,
    IReadOnlyDictionary<string, BackendInfo>? backends = null) : BackgroundService, IPolicySource
{
    public const string Group = "configinjector.io";
    public const string Version = "v1alpha1";

    private readonly Lock _lock = new();
    private readonly HashSet<string> _reported = [];
    private readonly IReadOnlySet<string>? _backendNames = backends?.Keys.ToHashSet(StringComparer.Ordinal);
    private Informer<CustomResource>? _policies;
    private Informer<CustomResource>? _profiles;
    private volatile IReadOnlyList<SecretPolicy> _current = [];
    private volatile IReadOnlyList<ConfigProfile> _currentProfiles = [];
    private volatile IReadOnlyList<PolicyVerdict> _verdicts = [];
    private volatile bool _ready;
    private volatile bool _dirty;

    // Rebuilt on first use after a change, not on every informer event: a relist of n objects costs one parse of each.
    public IReadOnlyList<SecretPolicy> Current
    {
        get
        {
            RebuildIfChanged();
            return _current;
        }
    }

    public IReadOnlyList<ConfigProfile> Profiles
    {
        get
        {
            RebuildIfChanged();
            return _currentProfiles;
        }
    }

    /// <summary>Every object as last seen, each with whether the webhook uses it and, if not, why.</summary>
    public IReadOnlyList<PolicyVerdict> Verdicts
    {
        get
        {
            RebuildIfChanged();
            return _verdicts;
        }
    }

    public bool Ready => _ready;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _policies = CreateInformer("secretpolicies");
        _profiles = CreateInformer("configprofiles");
        _policies.Changed += (_, _) => _dirty = true;
        _profiles.Changed += (_, _) => _dirty = true;
        var running = Task.WhenAll(_policies.RunAsync(stoppingToken), _profiles.RunAsync(stoppingToken));
        try
        {
            await Task.WhenAll(_policies.WaitForSyncAsync(stoppingToken), _profiles.WaitForSyncAsync(stoppingToken));
            _dirty = true;
            RebuildIfChanged();
            _ready = true;
            // Changes are also picked up without an admission asking, so invalid objects are reported promptly.
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(timings.PolicyRebuildTick, time, stoppingToken);
                RebuildIfChanged();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await running;
    }

    private Informer<CustomResource> CreateInformer(string plural) => new(
        plural,
        ct => ListAsync(plural, ct),
        (resourceVersion, onError, ct) => WatchStream.ReadAsync(client, $"apis/{Group}/{Version}/{plural}", plural, resourceVersion, null, CustomResource.From, onError, ct),
        time,
        log);

    private async Task<(IEnumerable<CustomResource> Items, string? ResourceVersion)> ListAsync(string plural, CancellationToken cancellationToken)
    {
        using var response = await RawRequest.SendAsync(client, $"apis/{Group}/{Version}/{plural}", "list", plural, cancellationToken);
        using var list = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
        var items = list.RootElement.TryGetProperty("items", out var array) && array.ValueKind == JsonValueKind.Array
            ? array.EnumerateArray().Select(CustomResource.From).ToList()
            : [];
        var version = list.RootElement.TryGetProperty("metadata", out var metadata) && metadata.TryGetProperty("resourceVersion", out var rv) ? rv.GetString() : null;
        return (items, version);
    }

    private void RebuildIfChanged()
    {
        if (!_dirty)
            return;
        lock (_lock)
        {
            if (!_dirty)
                return;
            _dirty = false;
            var policies = new List<SecretPolicy>();
            var profiles = new List<ConfigProfile>();
            var verdicts = new List<PolicyVerdict>();
            var items = (_policies?.Items ?? []).Select(i => (Plural: "secretpolicies", Item: i)).Concat((_profiles?.Items ?? []).Select(i => (Plural: "configprofiles", Item: i)));
            foreach (var (plural, item) in items.OrderBy(i => i.Item.Metadata.Name, StringComparer.Ordinal))
            {
                var (verdict, result) = PolicyVerdict.Judge(plural, item, _backendNames);
                verdicts.Add(verdict);
                policies.AddRange(result.Policies);
                profiles.AddRange(result.Profiles);
                // Once per spec (generation), not per resourceVersion: the leader's status write changes the latter.
                if ((verdict.Problem ?? verdict.Warning) is not null && _reported.Add($"{verdict.Label}@{item.Metadata.Uid}/{item.Metadata.Generation?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? item.Metadata.ResourceVersion}"))
                {
                    if (verdict.Problem is not null)
                        LogInvalid(log, verdict.Label, verdict.Problem);
                    else
                        LogUnknownBackend(log, verdict.Label, verdict.Warning!);
                }
            }
            _verdicts = verdicts;
            _current = policies;
            _currentProfiles = profiles;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Object} {Warning}")]
    private static partial void LogUnknownBackend(ILogger logger, string @object, string warning);

    [LoggerMessage(Level = LogLevel.Warning, Message = "ignored an invalid policy object: {Object}: {Problem}")]
    private static partial void LogInvalid(ILogger logger, string @object, string problem);
}
