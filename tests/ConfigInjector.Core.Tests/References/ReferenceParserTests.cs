using ConfigInjector.Core.References;

namespace ConfigInjector.Core.Tests.References;

public class ReferenceParserTests
{
    [Theory]
    [InlineData("vault-prod:secret/payments/db#password", "vault-prod", "secret/payments/db", "password", null)]
    [InlineData("kv-prod:db-password", "kv-prod", "db-password", null, null)]
    [InlineData("kv-prod:db-password@3f2a9c", "kv-prod", "db-password", null, "3f2a9c")]
    [InlineData("dev:app/db#user", "dev", "app/db", "user", null)]
    [InlineData("vault-prod:secret/app#api.key@12", "vault-prod", "secret/app", "api.key", "12")]
    [InlineData("v1:a_b/c-d/e.f#K_1", "v1", "a_b/c-d/e.f", "K_1", null)]
    public void Parses_valid_references(string text, string backend, string path, string? key, string? version)
    {
        var result = ReferenceParser.Parse(text);

        Assert.True(result.IsOk, result.Error);
        Assert.Equal(new SecretReference(backend, path, key, version), result.Value);
        Assert.Equal(text, result.Value!.ToString());
    }

    [Theory]
    [InlineData("", "the reference is empty; expected <backend>:<path>[#<key>][@<version>]")]
    [InlineData("   ", "the reference is empty; expected <backend>:<path>[#<key>][@<version>]")]
    [InlineData("app/db#user", "no ':' after the backend name; expected <backend>:<path>[#<key>][@<version>]")]
    [InlineData("Dev:app/db", "the backend name 'Dev' must be lowercase letters, digits and '-' (like a DNS label)")]
    [InlineData(":app/db", "the backend name '' must be lowercase letters, digits and '-' (like a DNS label)")]
    [InlineData("dev:", "the path after ':' is empty; expected <backend>:<path>[#<key>][@<version>]")]
    [InlineData("dev:#user", "the path after ':' is empty; expected <backend>:<path>[#<key>][@<version>]")]
    [InlineData("dev:app/db#", "the key after '#' is empty")]
    [InlineData("dev:app/db@", "the version after '@' is empty")]
    [InlineData("dev:app/db@3#user", "'#<key>' must come before '@<version>'")]
    [InlineData("dev:/app/db", "the path '/app/db' must not start or end with '/'")]
    [InlineData("dev:app/db/", "the path 'app/db/' must not start or end with '/'")]
    [InlineData("dev:app//db", "the path 'app//db' has an empty segment ('//')")]
    [InlineData("dev:app/../db", "the path 'app/../db' must not contain '.' or '..' segments")]
    [InlineData("dev:app/d b", "the reference contains white space")]
    [InlineData("dev:app/db#us$er", "the key 'us$er' may only hold letters, digits, '.', '_' and '-'")]
    [InlineData("dev:app/db@v:1", "the version 'v:1' may only hold letters, digits, '.', '_' and '-'")]
    [InlineData("dev:app/d*b", "the path 'app/d*b' may only hold letters, digits, '.', '_', '-' and '/'")]
    public void Rejects_malformed_references_with_a_reason(string text, string error)
    {
        var result = ReferenceParser.Parse(text);

        Assert.False(result.IsOk);
        Assert.Equal(error, result.Error);
    }

    [Fact]
    public void A_key_is_refused_where_the_annotation_takes_a_whole_path()
    {
        var result = ReferenceParser.Parse("dev:app/db#user", keyAllowed: false);

        Assert.Equal("this annotation takes a path without '#<key>': every key of the path is used", result.Error);
    }

    [Fact]
    public void Refs_that_differ_only_by_key_share_one_location()
    {
        var user = ReferenceParser.Parse("dev:app/db#user").Value!;
        var password = ReferenceParser.Parse("dev:app/db#password").Value!;

        Assert.Equal(user.Location, password.Location);
        Assert.NotEqual(user.Location, ReferenceParser.Parse("dev:app/db#user@2").Value!.Location);
    }

    [Fact]
    public void A_reference_longer_than_the_limit_is_refused_before_any_other_check()
    {
        var longest = "dev:" + string.Join("/", Enumerable.Repeat("abcdefg", 127)) + "/abcd";
        var tooLong = longest + "d";

        Assert.True(ReferenceParser.Parse(longest).IsOk, ReferenceParser.Parse(longest).Error);
        Assert.Equal(1024, longest.Length);
        Assert.Equal("the reference is 1025 characters long; at most 1024 are allowed", ReferenceParser.Parse(tooLong).Error);
    }
}
