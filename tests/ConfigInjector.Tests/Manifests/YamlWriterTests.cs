using System.Text.Json.Nodes;
using ConfigInjector.Manifests;
using YamlDotNet.Serialization;

namespace ConfigInjector.Tests.Manifests;

/// <summary>
/// What <c>inject</c> prints is read by kubectl, whose go-yaml takes yes/on/0x1F for booleans and numbers: every
/// string must come back a string, read by a second YAML reader with YAML 1.1 type inference, not by ours.
/// </summary>
public class YamlWriterTests
{
    public static TheoryData<string> TrickyStrings() =>
    [
        "true", "True", "false", "yes", "No", "on", "OFF", "y", "null", "~", "", "0x1F", "0o17", "010", "1e3", "1.5", "-2",
        ".inf", "-.Inf", ".NaN", "1:20", "12_000", "a: b", "- item", "#comment", "key: 'quoted'", "line one\nline two\n",
        " leading space", "trailing space ", "*alias", "&anchor", "!tag", "{flow}", "[flow]", "@at", "`tick`", "%percent",
        "ünïcödé", "tab\there", "\"double\"", "'single'",
    ];

    [Theory]
    [MemberData(nameof(TrickyStrings))]
    public void A_string_is_read_back_as_the_same_string(string value)
    {
        var yaml = YamlJson.ToYaml(new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { ["k"] = value } } });

        var read = new DeserializerBuilder().WithAttemptingUnquotedStringTypeDeserialization().Build().Deserialize<Dictionary<string, Dictionary<string, Dictionary<string, object?>>>>(yaml);

        Assert.Equal(value, Assert.IsType<string>(read["metadata"]["annotations"]["k"]));
    }

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
    }
}
