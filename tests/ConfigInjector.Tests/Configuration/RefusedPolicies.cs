namespace ConfigInjector.Tests.Configuration;

/// <summary>Where, in a cluster, a policy the webhook refuses is refused first.</summary>
public enum RefusedBy
{
    /// <summary>The CRD's structural schema, at <c>kubectl apply</c> (checked here as JSON Schema).</summary>
    Schema,

    /// <summary>A CEL rule of the CRD, at <c>kubectl apply</c>; no API server runs here, so it is not evaluated.</summary>
    Cel,

    /// <summary>The API server before any schema (a version the CRD does not serve).</summary>
    ApiServer,

    /// <summary>Only the webhook, which leaves the object out and says why in its status (Ready False, Invalid).</summary>
    Webhook,
}

/// <summary>
/// Every policy document the webhook refuses in the tests: the reader's one-line error (PolicyFolderTests) and where a
/// cluster refuses it first (CrdSchemaTests). A refusal only the webhook catches says why the schema cannot.
/// </summary>
public static class RefusedPolicies
{
    private const string Policy = "apiVersion: configinjector.io/v1alpha1\nkind: SecretPolicy\nmetadata: { name: a }\nspec:\n";
    private const string Valid = Policy + "  subjects: { namespaces: [x] }\n";
    private const string Profile = "apiVersion: configinjector.io/v1alpha1\nkind: ConfigProfile\nmetadata: { name: p }\nspec:\n";

    private static readonly (string Yaml, string Error, RefusedBy By, string Why)[] Cases =
    [
        ("apiVersion: configinjector.io/v1\nkind: SecretPolicy\nmetadata: { name: a }\nspec:\n  subjects: { namespaces: [x] }\n  rules: [{ backend: dev, paths: [a] }]", "p.yaml:1:13: apiVersion: \"configinjector.io/v1\" is not configinjector.io/v1alpha1", RefusedBy.ApiServer, "the CRD serves v1alpha1 only"),
        (Policy + "  subjects: { namespaces: [] }\n  rules: []", "SecretPolicy a: p.yaml:5:27: spec.subjects.namespaces: at least one namespace or glob is required", RefusedBy.Schema, ""),
        (Valid + "  rules: [{ backend: dev, paths: [\"/abs\"] }]", "SecretPolicy a: p.yaml:6:34: spec.rules[0].paths: \"/abs\" must be a path glob like secret/payments/** (no leading '/', no empty segment)", RefusedBy.Schema, ""),
        (Valid + "  rules: [{ backend: dev, paths: [a] }]\n  onBackendError: ignore", "SecretPolicy a: p.yaml:7:19: spec.onBackendError: \"ignore\" is not deny, allow-stale or skip", RefusedBy.Schema, ""),
        (Policy + "  subject: { namespaces: [x] }", "SecretPolicy a: p.yaml:5:3: spec.subjects: required", RefusedBy.Schema, ""),
        (Profile + "  secretEnv: { DSN: \"nope\" }", "ConfigProfile p: p.yaml:5:21: spec.secretEnv.DSN: \"nope\": no ':' after the backend name; expected <backend>:<path>[#<key>][@<version>]", RefusedBy.Schema, ""),
        (Profile + "  env: { 1BAD: x }", "ConfigProfile p: p.yaml:5:16: spec.env.1BAD: \"1BAD\" is not a valid environment variable name", RefusedBy.Webhook,
            "a variable's name is a map key: Kubernetes' schemas have no propertyNames, and a CEL regex over keys of unbounded length would exceed the CRD's cost budget"),
        (Valid + "  rules: []", "SecretPolicy a: p.yaml:6:10: spec.rules: at least one rule is required", RefusedBy.Schema, ""),
        (Valid + "  rules: [{ backend: dev, paths: [\"secret//db\"] }]", "SecretPolicy a: p.yaml:6:34: spec.rules[0].paths: \"secret//db\" must be a path glob like secret/payments/** (no leading '/', no empty segment)", RefusedBy.Schema, ""),
        (Valid + "  rules: [{ backend: dev, paths: [a], keys: [] }]", "SecretPolicy a: p.yaml:6:45: spec.rules[0].keys: an empty list allows nothing; omit it to allow any key", RefusedBy.Schema, ""),
        (Valid + "  rules: [{ backend: Vault_Prod, paths: [a] }]", "SecretPolicy a: p.yaml:6:22: spec.rules[0].backend: the backend name 'Vault_Prod' must be lowercase letters, digits and '-' (like a DNS label)", RefusedBy.Schema, ""),
        (Valid + "  rules: [{ backend: dev, paths: [a], dynamic: maybe }]", "SecretPolicy a: p.yaml:6:48: spec.rules[0].dynamic: \"maybe\" is not true or false", RefusedBy.Schema, ""),
        (Valid + "  rules: [{ backend: dev, paths: [a], dymanic: true }]", "SecretPolicy a: p.yaml:6:39: spec.rules[0].dymanic: unknown field (did you mean dynamic?)", RefusedBy.Schema, ""),
        (Valid + "  rules: [{ backend: dev, paths: [a] }]\n  rotation: { interval: 5 minutes }", "SecretPolicy a: p.yaml:7:25: spec.rotation.interval: \"5 minutes\" is not a duration such as 30s, 5m or 1h30m", RefusedBy.Schema, ""),
        (Valid + "  rules: [{ backend: dev, paths: [a] }]\n  rotation: { onChange: sometimes }", "SecretPolicy a: p.yaml:7:25: spec.rotation.onChange: \"sometimes\" is not restart or none", RefusedBy.Schema, ""),
        (Valid + "  rules: [{ backend: dev, paths: [a] }]\n  rotation: { interval: 0s }", "SecretPolicy a: p.yaml:7:25: spec.rotation.interval: \"0s\" is not a duration such as 30s, 5m or 1h30m", RefusedBy.Cel, "zero fits the duration pattern; the rule duration(self) > duration('0s') refuses it"),
        (Profile + "  selector: { namespaces: [x] }", "ConfigProfile p: p.yaml:5:3: spec.env: a profile needs env or secretEnv", RefusedBy.Schema, ""),
        (Profile + "  env: {}", "ConfigProfile p: p.yaml:5:8: spec.env: a profile needs env or secretEnv", RefusedBy.Schema, ""),
        (Profile + "  selector: { namespace: [x] }\n  env: { A: b }", "ConfigProfile p: p.yaml:5:15: spec.selector.namespace: unknown field (did you mean namespaces?)", RefusedBy.Schema, ""),
        (Profile + "  env: { DSN: x }\n  secretEnv: { DSN: \"vault:secret/db#dsn\" }", "ConfigProfile p: p.yaml:6:21: spec.secretEnv.DSN: DSN is also set in env", RefusedBy.Cel, "a rule across two fields: no name in both env and secretEnv"),
        (Profile + "  secretEnv: { DSN: \"vault:secret/../db#dsn\" }", "ConfigProfile p: p.yaml:5:21: spec.secretEnv.DSN: \"vault:secret/../db#dsn\": the path 'secret/../db' must not contain '.' or '..' segments", RefusedBy.Webhook, "'.' and '..' path segments: a pattern without look-ahead (RE2, the API server's dialect) that refuses them and nothing else would be unreadable"),
    ];

    /// <summary>(yaml, the reader's one-line error for file p.yaml).</summary>
    public static TheoryData<string, string> ReaderErrors
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var c in Cases)
                data.Add(c.Yaml, c.Error);
            return data;
        }
    }

    /// <summary>(yaml, where a cluster refuses it first, why a schema cannot when only the webhook does).</summary>
    public static TheoryData<string, RefusedBy, string> InCluster
    {
        get
        {
            var data = new TheoryData<string, RefusedBy, string>();
            foreach (var c in Cases)
                data.Add(c.Yaml, c.By, c.Why);
            return data;
        }
    }
}
