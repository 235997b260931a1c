using System.Globalization;
using System.Text;
using System.Text.Json;
using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Policies;
using k8s.Models;

namespace ConfigInjector.Core.Planning;

/// <summary>
/// The Kubernetes Secret for a plan, and back: values in <c>data</c>; refs, versions and rotation settings (never
/// values) in annotations, so the sync worker can re-resolve it without the pod.
/// </summary>
public static class ManagedSecretFactory
{
    public const string ManagedByLabel = "app.kubernetes.io/managed-by";
    public const string ManagedByValue = "config-injector";
    public const string ManagedBySelector = ManagedByLabel + "=" + ManagedByValue;
    public const string SourcesAnnotation = "configinjector.io/sources";
    /// <summary>What a changed env value does to the Secret's workloads: <c>restart</c> or <c>none</c> (a policy's onChange).</summary>
    public const string OnChangeAnnotation = "configinjector.io/on-change";

    /// <summary>
    /// The first release kept <see cref="OnChangeAnnotation"/> under the pod annotation's key, with another meaning on
    /// a Secret than on a pod; read for Secrets of that release and moved when they are signed again.
    /// </summary>
    public const string LegacyOnChangeAnnotation = "configinjector.io/rotation";
    public const string IntervalAnnotation = "configinjector.io/rotation-interval";
    public const string ServiceAccountAnnotation = "configinjector.io/service-account";
    public const string SignatureAnnotation = "configinjector.io/signature";

    /// <summary>
    /// The owners the injector gave the Secret (signed). Kubernetes' garbage collector removes the reference of an
    /// owner that is gone, so the live <c>ownerReferences</c> may be fewer; never more.
    /// </summary>
    public const string OwnersAnnotation = "configinjector.io/owners";

    /// <summary>
    /// Set on Secrets printed by <c>configinjector inject</c>: they are applied, refreshed and deleted with their
    /// manifests, so the worker neither rotates, adopts nor collects them.
    /// </summary>
    public const string LifecycleAnnotation = "configinjector.io/lifecycle";
    public const string ManualLifecycle = "manual";

    /// <param name="signingKey">The injector's key: the Secret is signed so the sync worker can tell it from a forged one.</param>
    public static V1Secret Create(ManagedSecretSpec spec, byte[] signingKey)
    {
        var secret = Unsigned(spec);
        SetOwners(secret, spec.Owner is null ? [] : [spec.Owner]);
        ManagedSecretSignature.Apply(signingKey, secret);
        return secret;
    }

    /// <summary>Sets the owners, live and signed alike; the caller signs the Secret again.</summary>
    public static void SetOwners(V1Secret secret, IReadOnlyList<V1OwnerReference> owners)
    {
        secret.Metadata.OwnerReferences = owners.Count == 0 ? null : [.. owners];
        secret.Metadata.Annotations ??= new Dictionary<string, string>();
        secret.Metadata.Annotations[OwnersAnnotation] = JsonSerializer.Serialize(owners
            .OrderBy(o => o.Uid, StringComparer.Ordinal)
            .Select(o => new Dictionary<string, string?> { ["apiVersion"] = o.ApiVersion, ["kind"] = o.Kind, ["name"] = o.Name, ["uid"] = o.Uid })
            .ToList(), AnnotationJson.Default.ListDictionaryStringString);
    }

    /// <summary>The signed owners (uid → kind/name), or null when the annotation is missing or unreadable.</summary>
    public static IReadOnlyDictionary<string, (string? ApiVersion, string? Kind, string? Name)>? SignedOwners(V1Secret secret)
    {
        if (secret.Metadata?.Annotations?.TryGetValue(OwnersAnnotation, out var json) != true)
            return null;
        try
        {
            var owners = JsonSerializer.Deserialize(json!, AnnotationJson.Default.ListDictionaryStringString);
            if (owners is null || owners.Any(o => o is null || o.GetValueOrDefault("uid") is null))
                return null;
            return owners.GroupBy(o => o["uid"]!, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => (g.First().GetValueOrDefault("apiVersion"), g.First().GetValueOrDefault("kind"), g.First().GetValueOrDefault("name")), StringComparer.Ordinal);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static V1Secret Unsigned(ManagedSecretSpec spec)
    {
        var secret = Plain(spec);
        // Only a Secret with composed keys carries the annotation: every other Secret keeps its first-release form.
        if (spec.Composed.Count > 0)
            secret.Metadata.Annotations[Templates.ComposedSources.Annotation] = Templates.ComposedSources.Serialize(spec.Composed);
        return secret;
    }

    private static V1Secret Plain(ManagedSecretSpec spec) => new()
    {
        ApiVersion = "v1",
        Kind = "Secret",
        Type = "Opaque",
        Metadata = new V1ObjectMeta
        {
            Name = spec.Name,
            NamespaceProperty = spec.Namespace,
            Labels = new Dictionary<string, string> { [ManagedByLabel] = ManagedByValue },
            Annotations = new Dictionary<string, string>
            {
                [SourcesAnnotation] = SerializeSources(spec.Sources),
                [OnChangeAnnotation] = spec.Rotation.OnChange == RotationMode.Restart ? "restart" : "none",
                [IntervalAnnotation] = ((long)spec.Rotation.Interval.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s",
                [ServiceAccountAnnotation] = spec.ServiceAccount,
            },
        },
        Data = spec.Data.ToDictionary(d => d.Key, d => Encoding.UTF8.GetBytes(d.Value)),
    };

    public static bool HasManualLifecycle(V1Secret secret) =>
        secret.Metadata?.Annotations?.TryGetValue(LifecycleAnnotation, out var lifecycle) == true && lifecycle == ManualLifecycle;

    /// <summary>A deep copy, to change without touching the object a cache or store holds.</summary>
    public static V1Secret Copy(V1Secret secret) => k8s.KubernetesJson.Deserialize<V1Secret>(k8s.KubernetesJson.Serialize(secret));

    public static bool IsManaged(V1Secret secret) => secret.Metadata?.Labels?.TryGetValue(ManagedByLabel, out var by) == true && by == ManagedByValue;

    public static string SerializeSources(IReadOnlyDictionary<string, KeySource> sources) =>
        JsonSerializer.Serialize(sources.ToDictionary(s => s.Key, s => new Dictionary<string, string> { ["ref"] = s.Value.Ref, ["version"] = s.Value.Version }),
            AnnotationJson.Default.DictionaryStringDictionaryStringString);

    /// <summary>The sources of a managed Secret; null when the annotation is missing or not ours.</summary>
    public static IReadOnlyDictionary<string, KeySource>? ReadSources(V1Secret secret) =>
        secret.Metadata?.Annotations?.TryGetValue(SourcesAnnotation, out var json) == true && json is not null ? ParseSources(json) : null;

    /// <summary>The sources annotation's JSON; null for any shape the injector does not write.</summary>
    public static System.Collections.ObjectModel.ReadOnlyDictionary<string, KeySource>? ParseSources(string json)
    {
        try
        {
            var raw = JsonSerializer.Deserialize(json, AnnotationJson.Default.DictionaryStringDictionaryStringString);
            // Anyone who may edit the Secret wrote this too: any other shape is "not ours", never an exception.
            if (raw is null || raw.Values.Any(v => v is null || v.GetValueOrDefault("ref") is null || v.GetValueOrDefault("version") is null))
                return null;
            return raw.ToDictionary(r => r.Key, r => new KeySource(r.Value["ref"], r.Value["version"]), StringComparer.Ordinal).AsReadOnly();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    public static bool IsAuthentic(V1Secret secret, SigningKeys keys) => ManagedSecretSignature.Verify(keys, secret) != SignatureCheck.Invalid;

    public static string? ServiceAccount(V1Secret secret) =>
        secret.Metadata?.Annotations?.TryGetValue(ServiceAccountAnnotation, out var serviceAccount) == true ? serviceAccount : null;

    public static RotationSettings ReadRotation(V1Secret secret)
    {
        var annotations = secret.Metadata?.Annotations;
        string? onChange = null;
        if (annotations?.TryGetValue(OnChangeAnnotation, out var current) == true)
            onChange = current;
        else if (annotations?.TryGetValue(LegacyOnChangeAnnotation, out var legacy) == true)
            onChange = legacy;
        var mode = onChange == "none" ? RotationMode.None : RotationMode.Restart;
        var interval = annotations?.TryGetValue(IntervalAnnotation, out var i) == true && long.TryParse(i.TrimEnd('s'), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds)
            : RotationSettings.Default.Interval;
        return new RotationSettings(interval, mode);
    }
}
