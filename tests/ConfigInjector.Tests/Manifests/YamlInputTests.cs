using System.Text.Json.Nodes;
using ConfigInjector.Cli;
using ConfigInjector.Configuration;
using ConfigInjector.Manifests;
using ConfigInjector.Policies;
using ConfigInjector.TestSupport;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ConfigInjector.Tests.Manifests;

/// <summary>YAML read as kubectl reads it, and bounded: size, nesting and alias expansion.</summary>
public class YamlInputTests
{
    // istio samples/addons/loki.yaml, shortened: the block scalar's first line holds only spaces (as many as the content's).
    private const string LokiConfigMap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: loki\ndata:\n  config.yaml: |\n    \n    auth_enabled: false\n    server:\n      http_listen_port: 3100\n";

    // Ten levels of ten aliases each: a few hundred bytes that stand for 10^10 scalars.
    private static readonly string AliasBomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + string.Concat(Enumerable.Range(1, 9).Select(i => $"{(char)('a' + i)}: &{(char)('a' + i)} [{string.Join(", ", Enumerable.Repeat("*" + (char)('a' + i - 1), 10))}]\n"));

    private static Task<(int Code, string Out, string Err)> Inject(string file) =>
        CliRunner.RunAsync("inject", "-f", file, "--config", Path.Combine(RepoPaths.Examples, "injector.yaml"), "--policies", Path.Combine(RepoPaths.Examples, "policies"));

    private static string Scratch(string name, string text)
    {
        var file = Path.Combine(ScratchDirectory.Create(), name);
        File.WriteAllText(file, text);
        return file;
    }

    [Fact]
    public void YamlDotNet_still_rejects_a_whitespace_only_first_line_in_a_block_scalar()
    {
        // Pins the parser bug the workaround exists for: when this starts passing, BoundedYaml's normalising can go.
        Assert.ThrowsAny<YamlException>(() => new YamlStream().Load(new StringReader(LokiConfigMap)));
    }

    [Theory]
    [InlineData(LokiConfigMap, "\nauth_enabled: false\nserver:\n  http_listen_port: 3100\n")]
    [InlineData("data:\n  a: |-\n  \n    one\n", "\none")]
    [InlineData("data:\n  a: |+\n    \n    one\n", "\none\n")]
    [InlineData("- data:\n    a: |\n      \n      x\n", null)]
    [InlineData("data:\n  a: |\n    \n", "")]
    [InlineData("data:\n  a: |\n    one\n      \n    two\n", "one\n  \ntwo\n")]
    public void Block_scalars_read_as_go_yaml_reads_them(string yaml, string? expected)
    {
        var document = Assert.Single(YamlJson.Parse(yaml))!;
        var data = document is JsonArray array ? array[0]!["data"]! : document["data"]!;

        Assert.Equal(expected ?? "\nx\n", data[data is JsonObject o && o.ContainsKey("config.yaml") ? "config.yaml" : "a"]!.GetValue<string>());
    }

    [Fact]
    public void Text_without_such_lines_is_left_exactly_as_it_is()
    {
        var manifest = File.ReadAllText(Path.Combine(RepoPaths.Examples, "deployment.yaml"));

        Assert.Same(manifest, YamlBlockScalars.Normalize(manifest));
    }

    [Fact]
    public async Task Inject_reads_the_istio_loki_manifest()
    {
        var (code, output, error) = await Inject(Scratch("loki.yaml", LokiConfigMap));

        Assert.True(code == ExitCodes.Ok, error);
        Assert.Contains("auth_enabled: false", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inject_refuses_an_alias_bomb_with_exit_2_instead_of_expanding_it()
    {
        var (code, output, error) = await Inject(Scratch("bomb.yaml", AliasBomb));

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("", output);
        Assert.EndsWith("not valid YAML or JSON: aliases expand to more than 1000000 nodes; refusing to expand them\n", error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public async Task Inject_refuses_deep_nesting_before_the_parser_recurses_into_it()
    {
        var (code, _, error) = await Inject(Scratch("deep.yaml", new string('[', 100_000)));

        Assert.Equal(ExitCodes.Usage, code);
        Assert.EndsWith("not valid YAML or JSON: nesting deeper than 128 levels\n", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inject_refuses_input_over_the_size_limit()
    {
        var file = Scratch("huge.yaml", "a: " + new string('x', BoundedYaml.MaxBytes) + "\n");

        var (code, _, error) = await Inject(file);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains($"more than {BoundedYaml.MaxBytes} characters; split the manifests", error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_config_and_policy_readers_refuse_an_alias_bomb_too()
    {
        var config = Assert.Throws<ConfigException>(() => ConfigFileReader.Parse(AliasBomb, "injector.yaml", "/"));
        var policies = PolicyDocumentReader.Parse(AliasBomb, "bomb.yaml");

        Assert.EndsWith("not valid YAML: aliases expand to more than 1000000 nodes; refusing to expand them", config.Message, StringComparison.Ordinal);
        Assert.EndsWith("not valid YAML: aliases expand to more than 1000000 nodes; refusing to expand them", Assert.Single(policies.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unpaired_surrogate_escape_is_bad_input_not_a_crash()
    {
        // Found by the fuzz run (seed 1567943): the parser threw ArgumentOutOfRangeException, past every YAML error handler.
        var (code, _, error) = await Inject(Scratch("surrogate.yaml", "a: \"\\ud800\\u0041\"\n"));

        Assert.Equal(ExitCodes.Usage, code);
        Assert.EndsWith("not valid YAML or JSON: an escape sequence names an invalid character (an unpaired surrogate)\n", error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_alias_budget_is_for_the_whole_stream_not_each_document()
    {
        // About 111,000 nodes once expanded: one document is fine, a dozen are more than a manifest set may stand for.
        var document = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + string.Concat(Enumerable.Range(1, 4).Select(i => $"{(char)('a' + i)}: &{(char)('a' + i)} [{string.Join(", ", Enumerable.Repeat("*" + (char)('a' + i - 1), 10))}]\n"));

        Assert.Single(BoundedYaml.Load(document).Documents);
        var refused = Assert.Throws<YamlLimitException>(() => BoundedYaml.Load(string.Join("---\n", Enumerable.Repeat(document, 12))));
        Assert.Equal("aliases expand to more than 1000000 nodes; refusing to expand them", refused.Message);
    }
}
