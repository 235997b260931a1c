using System.Text;
using System.Text.Json.Nodes;

namespace ConfigInjector.Tests.Fuzzing;

/// <summary>
/// A structure-aware generator of AdmissionReviews (no coverage-guided engine for .NET runs on these machines'
/// packages without a native harness, so this is the seeded structured generator the README names): well-formed
/// reviews of pods with our annotations, then mutated the ways a hostile or broken client would — nulls in lists,
/// wrong JSON types, dropped fields, garbage and near-miss refs, long strings, deep nesting, unicode.
/// </summary>
internal sealed class ReviewGenerator(int seed)
{
    private static readonly string[] Keys =
    [
        "inject", "secret.DB_PASSWORD", "secret.A", "config.LOG", "file.ca.crt", "secrets-from", "secrets-prefix", "files-dir",
        "containers", "init-containers", "rotation", "override", "profiles", "injected", "managed-secret", "secrets.X", "injcet", "file.",
        "template.URL", "template.A", "file-template.c.json", "file-template.ca.crt", "file-from.app.env", "file-format.app.env", "file-from.x", "templates.X",
    ];

    /// <summary>Templates, good and broken: filters, escapes, nesting, unclosed and empty placeholders, hostile sizes.</summary>
    private static readonly string[] Templates =
    [
        "pg://${dev:app/db#user}:${dev:app/db#password | urlencode}@db/app", "${dev:app/db#password|json}", "$${dev:app/db#user}",
        "${dev:app/db#user | base64 | trim}", "${dev:app/db#user | upper}", "${dev:app/db#user", "${}", "${ | json}", "${${dev:app/db#user}}",
        "${dev:team-b/db#password}", "${dev:app/db}", "}${dev:app/db#user}$", "no placeholder", string.Concat(Enumerable.Repeat("${dev:app/db#password}", 70)),
        "json", "dotenv", "toml", "\u00e9${dev:app/\u00e9t\u00e9#\u00fc}",
    ];

    private static readonly string[] Refs =
    [
        "dev:app/db#password", "dev:app/db#user", "dev:app/db", "dev:shared/sentry#dsn", "dev:team-b/db#password", "dev:app/settings",
        "dev:app/db#", "dev:/app", "dev:app//db", "dev:../x", "Dev:app/db", "nobackend:a/b", "dev:app/db#k@1", "dev:app/db@", ":", "",
        "configinjector:dev:app/db#user", "dev:app/db#pass word", "dev:" + new string('a', 1100), "dev:app/\u00e9t\u00e9#\u00fc",
    ];

    private readonly Random _random = new(seed);

    public string Next()
    {
        var review = Valid();
        var mutations = _random.Next(0, 4);
        for (var i = 0; i < mutations; i++)
            Mutate(review);
        return _random.Next(50) == 0 ? Corrupt(review.ToJsonString()) : review.ToJsonString();
    }

    private JsonObject Valid()
    {
        var annotations = new JsonObject();
        if (_random.Next(4) != 0)
            annotations["configinjector.io/inject"] = Pick(["true", "false", "yes", ""]);
        for (var i = _random.Next(0, 6); i > 0; i--)
        {
            var key = Pick(Keys);
            annotations["configinjector.io/" + key] = key.Contains("template", StringComparison.Ordinal) && _random.Next(4) != 0 ? Pick(Templates)
                : _random.Next(3) == 0 ? Pick(["app", "app,worker", "restart", "none", "/etc/x", "true", "DB_", "json", "dotenv"]) : Pick(Refs);
        }
        var env = new JsonArray();
        for (var i = _random.Next(0, 3); i > 0; i--)
            env.Add(new JsonObject { ["name"] = Pick(["A", "DB_USER", "X1"]), ["value"] = _random.Next(2) == 0 ? "configinjector:" + Pick(Refs) : "plain" });
        var container = new JsonObject { ["name"] = Pick(["app", "worker"]), ["image"] = "nginx", ["env"] = env };
        if (_random.Next(3) == 0)
            container["volumeMounts"] = new JsonArray(new JsonObject { ["name"] = "v", ["mountPath"] = Pick(["/var/run/configinjector", "/data"]) });
        var pod = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = new JsonObject { ["name"] = "fuzz", ["namespace"] = "default", ["annotations"] = annotations, ["labels"] = new JsonObject { ["tier"] = "backend" } },
            ["spec"] = new JsonObject { ["serviceAccountName"] = Pick(["default", "api", ""]), ["containers"] = new JsonArray(container) },
        };
        return new JsonObject
        {
            ["apiVersion"] = "admission.k8s.io/v1",
            ["kind"] = "AdmissionReview",
            ["request"] = new JsonObject
            {
                ["uid"] = Guid.NewGuid().ToString(),
                ["kind"] = new JsonObject { ["group"] = "", ["version"] = "v1", ["kind"] = "Pod" },
                ["namespace"] = "default",
                ["operation"] = "CREATE",
                ["dryRun"] = _random.Next(2) == 0,
                ["object"] = pod,
            },
        };
    }

    private void Mutate(JsonObject review)
    {
        var nodes = new List<(JsonNode Parent, object Key)>();
        Collect(review, nodes);
        if (nodes.Count == 0)
            return;
        var (parent, key) = nodes[_random.Next(nodes.Count)];
        JsonNode? replacement = _random.Next(9) switch
        {
            0 => null,
            1 => JsonValue.Create(_random.Next(-5, 5)),
            2 => JsonValue.Create(true),
            3 => new JsonArray(null, JsonValue.Create("x")),
            4 => new JsonObject { ["name"] = null },
            5 => JsonValue.Create(new string((char)_random.Next(32, 0x3000), _random.Next(1, 5000))),
            6 => JsonValue.Create(Pick(Refs)),
            7 => Nest(_random.Next(1, 80)),
            _ => JsonValue.Create(Unicode()),
        };
        if (parent is JsonObject obj)
        {
            if (_random.Next(4) == 0)
                obj.Remove((string)key);
            else
                obj[(string)key] = replacement;
        }
        else if (parent is JsonArray array)
        {
            array[(int)key] = replacement;
        }
    }

    private static void Collect(JsonNode node, List<(JsonNode, object)> into)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, child) in obj.ToList())
                {
                    into.Add((obj, key));
                    if (child is not null)
                        Collect(child, into);
                }
                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    into.Add((array, i));
                    if (array[i] is { } child)
                        Collect(child, into);
                }
                break;
        }
    }

    private static JsonNode Nest(int depth)
    {
        JsonNode node = JsonValue.Create("x");
        for (var i = 0; i < depth; i++)
            node = new JsonArray(node);
        return node;
    }

    private string Unicode()
    {
        var builder = new StringBuilder();
        for (var i = _random.Next(1, 40); i > 0; i--)
            builder.Append(char.ConvertFromUtf32(_random.Next(2) == 0 ? _random.Next(0x20, 0x7F) : _random.Next(0xA0, 0x2FFFF) is var c && c is >= 0xD800 and <= 0xDFFF ? 0x41 : c));
        return builder.ToString();
    }

    private string Corrupt(string json)
    {
        var bytes = json.ToCharArray();
        for (var i = _random.Next(1, 5); i > 0; i--)
            bytes[_random.Next(bytes.Length)] = (char)_random.Next(32, 127);
        return new string(bytes, 0, _random.Next(bytes.Length / 2, bytes.Length + 1));
    }

    private string Pick(string[] items) => items[_random.Next(items.Length)];
}
