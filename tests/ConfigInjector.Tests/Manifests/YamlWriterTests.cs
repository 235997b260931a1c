using System.Text.Json.Nodes;
using ConfigInjector.Manifests;
using YamlDotNet.Serialization;

namespace ConfigInjector.Tests.Manifests;

/// <summary>
/// What <c>inject</c> prints is read by kubectl, whose go-yaml takes yes/on/0x1F for booleans and numbers: every
/// string, key or value, must come back a string, read by second readers, not by ours: YamlDotNet's deserializer
/// for the text, and <see cref="Yaml11Reader"/> for the type YAML 1.1 (and go-yaml) give a plain scalar.
/// </summary>
public class YamlWriterTests
{
    public static TheoryData<string> TrickyStrings() =>
    [
        "true", "True", "false", "yes", "No", "on", "OFF", "y", "null", "~", "", "0x1F", "0o17", "010", "1e3", "1.5", "-2",
        ".inf", "-.Inf", ".NaN", "1:20", "12_000", "a: b", "- item", "#comment", "key: 'quoted'", "line one\nline two\n",
        " leading space", "trailing space ", "*alias", "&anchor", "!tag", "{flow}", "[flow]", "@at", "`tick`", "%percent",
        "ünïcödé", "tab\there", "\"double\"", "'single'", "0b1010", "0B11", "0X1F", "+0x1F", "-0o7", "+12_000", "190:20:30.15",
    ];

    [Theory]
    [MemberData(nameof(TrickyStrings))]
    public void A_string_is_read_back_as_the_same_string(string value)
    {
        var yaml = YamlJson.ToYaml(new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { ["k"] = value } } });

        var read = new DeserializerBuilder().WithAttemptingUnquotedStringTypeDeserialization().Build().Deserialize<Dictionary<string, Dictionary<string, Dictionary<string, object?>>>>(yaml);

        Assert.Equal(value, Assert.IsType<string>(read["metadata"]["annotations"]["k"]));
        Assert.Equal([("str", "metadata"), ("str", "annotations"), ("str", "k"), ("str", value)], Yaml11Reader.Scalars(yaml));
    }

    [Theory]
    [MemberData(nameof(TrickyStrings))]
    public void A_key_is_read_back_as_the_same_string(string key)
    {
        // A ConfigMap's data keys may be "on" or "y": read as booleans, kubectl would store the key "true".
        var yaml = YamlJson.ToYaml(new JsonObject { ["data"] = new JsonObject { [key] = "v" } });

        Assert.Equal([("str", "data"), ("str", key), ("str", "v")], Yaml11Reader.Scalars(yaml));
    }

    [Theory]
    [InlineData("yes", "bool")]
    [InlineData("Off", "bool")]
    [InlineData("y", "bool")]
    [InlineData("~", "null")]
    [InlineData("0o17", "int")]
    [InlineData("12_000", "int")]
    [InlineData("1:20", "int")]
    [InlineData("0b1010", "int")]
    [InlineData("+0x1F", "int")]
    [InlineData("010", "int")]
    [InlineData("1e3", "float")]
    [InlineData("190:20:30.15", "float")]
    [InlineData("-.Inf", "float")]
    [InlineData("yes please", "str")]
    [InlineData("1.25-alpine", "str")]
    [InlineData("v1", "str")]
    public void The_second_reader_types_plain_scalars_as_yaml_1_1_does(string plain, string tag) =>
        Assert.Equal(tag, Yaml11Reader.Resolve(plain));

    [Fact]
    public void Numbers_booleans_and_nulls_stay_what_they_are_and_lists_stay_lists()
    {
        var yaml = YamlJson.ToYaml(JsonNode.Parse("""{"replicas":3,"ratio":0.5,"on":true,"off":false,"none":null,"list":[1,"two"]}"""));

        var read = new DeserializerBuilder().WithAttemptingUnquotedStringTypeDeserialization().Build().Deserialize<Dictionary<string, object?>>(yaml);

        Assert.Equal(3, Convert.ToInt32(read["replicas"], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(0.5, Convert.ToDouble(read["ratio"], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(true, read["on"]);
        Assert.Equal(false, read["off"]);
        Assert.Null(read["none"]);
        Assert.Equal(["1", "two"], Assert.IsType<List<object>>(read["list"]).Select(o => Convert.ToString(o, System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(
            [("str", "replicas"), ("int", "3"), ("str", "ratio"), ("float", "0.5"), ("str", "on"), ("bool", "true"), ("str", "off"), ("bool", "false"),
             ("str", "none"), ("null", "null"), ("str", "list"), ("int", "1"), ("str", "two")],
            Yaml11Reader.Scalars(yaml));
    }
}
