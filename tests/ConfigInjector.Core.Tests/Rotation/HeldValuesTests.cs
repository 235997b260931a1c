using ConfigInjector.Core.Rotation;

namespace ConfigInjector.Core.Tests.Rotation;

public sealed class HeldValuesTests
{
    private static readonly Dictionary<string, string> Values = new() { ["DB_PASSWORD"] = "s3cret", ["file.ca"] = "-----BEGIN CERTIFICATE-----\nMIIB\n" };

    [Theory]
    [InlineData("DB_PASSWORD", "s3cret", true)]
    [InlineData("DB_PASSWORD", "s3cret ", false)]
    [InlineData("DB_PASSWORD", "S3cret", false)]
    [InlineData("DB_PASSWORD", "", false)]
    [InlineData("file.ca", "-----BEGIN CERTIFICATE-----\nMIIB\n", true)]
    [InlineData("file.ca", "-----BEGIN CERTIFICATE-----\nMIIB", false)]
    [InlineData("DB_USER", "s3cret", false)]
    public void Digests_hold_exactly_what_the_values_hold(string key, string value, bool held)
    {
        Assert.Equal(held, HeldValues.Of(Values).Holds(key, value));
        Assert.Equal(held, HeldValues.Digested(Values, k => k).Holds(key, value));
    }

    [Fact]
    public void Digests_keep_no_value()
    {
        var digested = HeldValues.Digested(Values, k => k);

        Assert.Empty(digested.Known);
        Assert.DoesNotContain("s3cret", digested.ToString(), StringComparison.Ordinal);
    }
}
