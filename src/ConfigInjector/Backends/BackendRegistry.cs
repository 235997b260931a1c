using ConfigInjector.Backends.PodIdentity;
using ConfigInjector.Configuration;
using ConfigInjector.Core.Text;

namespace ConfigInjector.Backends;

/// <summary>What a backend factory may use besides its own settings: <paramref name="Versions"/> for backends that keep no versions.</summary>
internal sealed record BackendContext(TimeProvider Time, ILoggerFactory Logs, IVersionKey Versions)
{
    /// <summary>Where <c>identity: pod</c> backends get a pod's service-account token: the API server, when there is one.</summary>
    public IServiceAccounts ServiceAccounts { get; init; } = NoServiceAccounts.Instance;
}

/// <summary>Creates backends of one <c>type</c>; it reads and validates its own fields of the settings node.</summary>
internal interface IBackendFactory
{
    string Type { get; }

    ISecretBackend Create(BackendSettings settings, BackendContext context);
}

/// <summary>Backend factories keyed by type: duplicates and unknown types are startup errors, never a runtime switch.</summary>
internal sealed class BackendRegistry
{
    private readonly Dictionary<string, IBackendFactory> _factories = new(StringComparer.Ordinal);

    public BackendRegistry(IEnumerable<IBackendFactory> factories)
    {
        foreach (var factory in factories)
        {
            if (!_factories.TryAdd(factory.Type, factory))
                throw new InvalidOperationException($"two backend factories register the type \"{factory.Type}\"");
        }
    }

    /// <summary>Every backend type this build knows (<see cref="BackendServices.AddBackendTypes"/>), outside a container.</summary>
    public static BackendRegistry Default { get; } = new(new ServiceCollection().AddBackendTypes().BuildServiceProvider().GetServices<IBackendFactory>());

    public IReadOnlyDictionary<string, ISecretBackend> CreateAll(InjectorConfig config, BackendContext context)
    {
        var backends = new Dictionary<string, ISecretBackend>(StringComparer.Ordinal);
        foreach (var settings in config.Backends)
        {
            if (!_factories.TryGetValue(settings.Type, out var factory))
            {
                throw settings.Node.ErrorAt("type",
                    $"unknown backend type \"{settings.Type}\" (did you mean {ClosestMatch.Find(settings.Type, _factories.Keys)}? known: {string.Join(", ", _factories.Keys.Order())})");
            }
            var backend = factory.Create(settings, context);
            if (settings.Identity == BackendIdentity.Pod && backend is not IReadsAsServiceAccount)
                throw settings.Node.ErrorAt("identity", $"a {settings.Type} backend cannot read as the pod's service account; identity: pod is for vault and azure-keyvault");
            settings.Node.RejectUnknown();
            backends.Add(settings.Name, backend);
        }
        return backends;
    }
}
