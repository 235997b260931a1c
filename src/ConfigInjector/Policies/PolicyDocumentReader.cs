using ConfigInjector.Configuration;
using ConfigInjector.Core;
using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ConfigInjector.Policies;

/// <summary>What a policy folder or file held: the valid policies, and one line per document that was ignored and why.</summary>
internal sealed record PolicyLoadResult(IReadOnlyList<SecretPolicy> Policies, IReadOnlyList<ConfigProfile> Profiles, IReadOnlyList<string> Errors);

/// <summary>
/// Reads SecretPolicy documents (configinjector.io/v1alpha1) from YAML. An invalid document is reported with
/// file, line, name and field and left out: a mistake can only narrow access, never widen it.
/// </summary>
internal static class PolicyDocumentReader
{
    public const string ApiVersion = "configinjector.io/v1alpha1";

    public static PolicyLoadResult Parse(string text, string file)
    {
        var policies = new List<SecretPolicy>();
        var profiles = new List<ConfigProfile>();
        var errors = new List<string>();
        YamlStream stream;
        try
        {
            stream = Manifests.BoundedYaml.Load(text);
        }
        catch (YamlException e)
        {
            return new PolicyLoadResult([], [], [$"{file}:{e.Start.Line}:{e.Start.Column}: not valid YAML{Manifests.YamlLimitException.Describe(e)}"]);
        }

        foreach (var node in stream.Documents.SelectMany(d => Objects(d.RootNode)))
        {
            if (node is not YamlMappingNode mapping)
            {
                errors.Add($"{file}:{node.Start.Line}:1: expected a Kubernetes-style object");
                continue;
            }
            try
            {
                switch (ReadObject(new ConfigNode(file, "", mapping)))
                {
                    case SecretPolicy policy:
                        policies.Add(policy);
                        break;
                    case ConfigProfile profile:
                        profiles.Add(profile);
                        break;
                }
            }
            catch (ConfigException e)
            {
                errors.Add(e.Message);
            }
        }
        return new PolicyLoadResult(policies, profiles, errors);
    }

    /// <summary>
    /// The objects of one YAML document: the document itself, or the items of the <c>kind: List</c> that
    /// <c>kubectl get secretpolicies,configprofiles -o yaml</c> prints, so the cluster's objects can be checked offline.
    /// </summary>
    private static IEnumerable<YamlNode> Objects(YamlNode root) =>
        root is YamlMappingNode mapping && Scalar(mapping, "apiVersion") == "v1" && Scalar(mapping, "kind") == "List"
            && mapping.Children.TryGetValue(new YamlScalarNode("items"), out var items) && items is YamlSequenceNode sequence
            ? sequence.Children
            : [root];

    private static string? Scalar(YamlMappingNode mapping, string key) =>
        mapping.Children.TryGetValue(new YamlScalarNode(key), out var value) ? (value as YamlScalarNode)?.Value : null;

    private static object ReadObject(ConfigNode root)
    {
        var apiVersion = root.String("apiVersion", required: true);
        var kind = root.String("kind", required: true);
        if (apiVersion != ApiVersion)
            throw root.ErrorAt("apiVersion", $"\"{apiVersion}\" is not {ApiVersion}");
        var metadata = root.Mapping("metadata") ?? throw root.ErrorAt("metadata", "required");
        var name = metadata.String("name", required: true)!;
        if (kind is not ("SecretPolicy" or "ConfigProfile"))
            throw root.ErrorAt("kind", $"\"{kind}\" is not SecretPolicy or ConfigProfile");

        try
        {
            var spec = root.Mapping("spec") ?? throw root.ErrorAt("spec", "required");
            return kind == "SecretPolicy" ? ReadSpec(name, spec) : ReadProfile(name, spec);
        }
        catch (ConfigException e)
        {
            throw new ConfigException($"{kind} {name}: {e.Message}");
        }
    }

    private static ConfigProfile ReadProfile(string name, ConfigNode spec)
    {
        ProfileSelector? selector = null;
        if (spec.Mapping("selector") is { } selectorNode)
        {
            var namespaces = selectorNode.Strings("namespaces") ?? ["*"];
            var labels = selectorNode.StringMap("podLabels").ToDictionary(l => l.Key, l => l.Value, StringComparer.Ordinal);
            selectorNode.RejectUnknown();
            selector = new ProfileSelector(namespaces, labels);
        }
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value, at) in spec.StringMap("env"))
        {
            if (!Names.IsEnvName(key))
                throw new ConfigException($"{at.Message}\"{key}\" is not a valid environment variable name");
            env[key] = value;
        }
        var secretEnv = new Dictionary<string, SecretReference>(StringComparer.Ordinal);
        foreach (var (key, value, at) in spec.StringMap("secretEnv"))
        {
            if (!Names.IsEnvName(key))
                throw new ConfigException($"{at.Message}\"{key}\" is not a valid environment variable name");
            if (env.ContainsKey(key))
                throw new ConfigException($"{at.Message}{key} is also set in env");
            var parsed = ReferenceParser.Parse(value);
            if (!parsed.IsOk)
                throw new ConfigException($"{at.Message}\"{value}\": {parsed.Error}");
            secretEnv[key] = parsed.Value!;
        }
        if (env.Count == 0 && secretEnv.Count == 0)
            throw spec.ErrorAt("env", "a profile needs env or secretEnv");
        spec.RejectUnknown();
        return new ConfigProfile(name, selector, env, secretEnv);
    }

    private static SecretPolicy ReadSpec(string name, ConfigNode spec)
    {
        var subjectsNode = spec.Mapping("subjects") ?? throw spec.ErrorAt("subjects", "required");
        var namespaces = subjectsNode.Strings("namespaces");
        if (namespaces is null || namespaces.Count == 0)
            throw subjectsNode.ErrorAt("namespaces", "at least one namespace or glob is required");
        var subjects = new PolicySubjects(namespaces, subjectsNode.Strings("serviceAccounts"));
        subjectsNode.RejectUnknown();

        var rules = new List<PolicyRule>();
        foreach (var ruleNode in spec.Sequence("rules"))
        {
            var backend = ruleNode.String("backend", required: true)!;
            if (Names.CheckBackendName(backend) is { } backendError)
                throw ruleNode.ErrorAt("backend", backendError);
            var paths = ruleNode.Strings("paths");
            if (paths is null || paths.Count == 0)
                throw ruleNode.ErrorAt("paths", "at least one path glob is required");
            if (paths.FirstOrDefault(p => p.Length == 0 || p.StartsWith('/') || p.Contains("//", StringComparison.Ordinal)) is { } badPath)
                throw ruleNode.ErrorAt("paths", $"\"{badPath}\" must be a path glob like secret/payments/** (no leading '/', no empty segment)");
            var keys = ruleNode.Strings("keys");
            if (keys is { Count: 0 })
                throw ruleNode.ErrorAt("keys", "an empty list allows nothing; omit it to allow any key");
            rules.Add(new PolicyRule(backend, paths, keys) { Dynamic = ruleNode.Bool("dynamic", false) });
            ruleNode.RejectUnknown();
        }
        if (rules.Count == 0)
            throw spec.ErrorAt("rules", "at least one rule is required");

        var rotation = RotationSettings.Default;
        if (spec.Mapping("rotation") is { } rotationNode)
        {
            var interval = rotationNode.Duration("interval", RotationSettings.Default.Interval);
            var onChange = rotationNode.String("onChange") switch
            {
                null or "restart" => RotationMode.Restart,
                "none" => RotationMode.None,
                var other => throw rotationNode.ErrorAt("onChange", $"\"{other}\" is not restart or none"),
            };
            var debounce = rotationNode.Duration("debounce", RotationSettings.DefaultDebounce, zeroAllowed: true);
            rotationNode.RejectUnknown();
            rotation = new RotationSettings(interval, onChange) { Debounce = debounce };
        }

        var onBackendError = spec.String("onBackendError") switch
        {
            null or "deny" => BackendErrorMode.Deny,
            "allow-stale" => BackendErrorMode.AllowStale,
            "skip" => BackendErrorMode.Skip,
            var other => throw spec.ErrorAt("onBackendError", $"\"{other}\" is not deny, allow-stale or skip"),
        };
        spec.RejectUnknown();
        return new SecretPolicy(name, subjects, rules, rotation, onBackendError);
    }
}
