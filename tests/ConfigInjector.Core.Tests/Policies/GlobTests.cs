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

    [Theory]
    [InlineData("a/**/b/**/c", "a/x/b/y/z/c", true)]
    [InlineData("a/**/b/**/c", "a/b/c", true)]
    [InlineData("a/**/b/**/c", "a/x/c/b", false)]
    [InlineData("**/**", "a", true)]
    [InlineData("**/x/**/y", "x/y/x/z", false)]
    [InlineData("**/x/**/y", "q/x/r/x/y", true)]
    public void Several_double_stars_match_as_any_run_of_segments(string pattern, string path, bool expected) =>
        Assert.Equal(expected, Glob.MatchPath(pattern, path));

    [Fact]
    public async Task Many_double_stars_against_a_long_path_finish_instead_of_searching_exponentially()
    {
        var pattern = string.Join("/", Enumerable.Repeat("**/a", 12)) + "/nomatch";
        var path = string.Join("/", Enumerable.Repeat("a", 400));

        // Before: a recursive search, exponential in the number of "**"; the wait only guards the test run.
        var matched = Task.Run(() => Glob.MatchPath(pattern, path));

        Assert.False(await matched.WaitAsync(TimeSpan.FromSeconds(60)));
    }
}
