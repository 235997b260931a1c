using ConfigInjector.Core.Policies;

namespace ConfigInjector.Core.Tests.Policies;

public class GlobTests
{
    [Theory]
    [InlineData("secret/payments/**", "secret/payments/db", true)]
    [InlineData("secret/payments/**", "secret/payments/a/b/c", true)]
    [InlineData("secret/payments/**", "secret/payments", true)]
    [InlineData("secret/payments/**", "secret/paymentsx/db", false)]
    [InlineData("secret/*/db", "secret/payments/db", true)]
    [InlineData("secret/*/db", "secret/a/b/db", false)]
    [InlineData("secret/*", "secret/payments/db", false)]
    [InlineData("secret/db-*", "secret/db-main", true)]
    [InlineData("secret/db-*", "secret/cache-main", false)]
    [InlineData("**/db", "a/b/c/db", true)]
    [InlineData("**/db", "db", true)]
    [InlineData("a/**/z", "a/z", true)]
    [InlineData("a/**/z", "a/b/c/z", true)]
    [InlineData("a/**/z", "a/b/c/y", false)]
    [InlineData("**", "anything/at/all", true)]
    [InlineData("app/db", "app/db", true)]
    [InlineData("app/db", "app/db2", false)]
    public void Matches_paths(string pattern, string path, bool expected) =>
        Assert.Equal(expected, Glob.MatchPath(pattern, path));

    [Theory]
    [InlineData("payments-*", "payments-eu", true)]
    [InlineData("payments-*", "payments", false)]
    [InlineData("*", "", true)]
    [InlineData("*-prod", "eu-prod", true)]
    [InlineData("a*b*c", "aXXbYYc", true)]
    [InlineData("a*b*c", "aXXbYY", false)]
    [InlineData("api", "API", false)]
    public void Matches_names(string pattern, string name, bool expected) =>
        Assert.Equal(expected, Glob.MatchName(pattern, name));
}
