using ConfigInjector.Core.References;
using ConfigInjector.Core.Report;

namespace ConfigInjector.Core.Tests.Report;

public class RefPatternTests
{
    private static bool Matches(string pattern, string reference) =>
        RefPattern.Parse(pattern).Value!.Matches(ReferenceParser.Parse(reference).Value!);

    [Theory]
    [InlineData("vault:secret/shop/db#password", "vault:secret/shop/db#password@3", true)]
    [InlineData("vault:secret/shop/db#password", "vault:secret/shop/db#user", false)]
    [InlineData("vault:secret/shop/db", "vault:secret/shop/db#user", true)]
    [InlineData("vault:secret/shop/db", "vault:secret/shop/dbx#user", false)]
    [InlineData("vault:secret/shop/", "vault:secret/shop/db/replica#user", true)]
    [InlineData("vault:secret/shop/", "vault:secret/shopping/db#user", false)]
    [InlineData("vault:secret/*/db#pass*", "vault:secret/shop/db#password", true)]
    [InlineData("vault:secret/*/db#pass*", "vault:secret/shop/eu/db#password", false)]
    [InlineData("vault:**", "vault:a/b/c#d", true)]
    [InlineData("vault:**", "other:a/b/c#d", false)]
    [InlineData("vault:secret/shop/db#password@7", "vault:secret/shop/db#password@3", true)]
    // A pod given a whole path (file-from, a one-key path) read every key of it.
    [InlineData("vault:secret/shop/db#password", "vault:secret/shop/db@3", true)]
    public void A_pattern_is_a_ref_a_path_a_prefix_or_a_glob(string pattern, string reference, bool matches) =>
        Assert.Equal(matches, Matches(pattern, reference));

    [Theory]
    [InlineData("", "the ref pattern is empty; expected <backend>:<path>[#<key>][@<version>], a path prefix ending in '/', or a glob")]
    [InlineData("nocolon", "\"nocolon\": no ':' after the backend name; expected <backend>:<path>[#<key>][@<version>]")]
    [InlineData("vault:a//b", "\"vault:a//b\": the path has an empty, '.' or '..' segment")]
    [InlineData("vault:../x", "\"vault:../x\": the path has an empty, '.' or '..' segment")]
    [InlineData("vault:a/b#", "\"vault:a/b#\": the key after '#' is empty")]
    public void A_bad_pattern_is_one_line(string pattern, string error) =>
        Assert.Equal(error, RefPattern.Parse(pattern).Error);
}
