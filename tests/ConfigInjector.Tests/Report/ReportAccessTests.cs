using ConfigInjector.Configuration;
using ConfigInjector.Report;

namespace ConfigInjector.Tests.Report;

public class ReportAccessTests
{
    [Theory]
    [InlineData("group:system:authenticated", "--report-access group:system:authenticated: every pod's service account (or everyone) is in that group; name the security team's group or users")]
    [InlineData("group:system:serviceaccounts:shop", "--report-access group:system:serviceaccounts:shop: every pod's service account (or everyone) is in that group; name the security team's group or users")]
    [InlineData("team:security", "--report-access \"team:security\": expected subject:<certificate subject or CN>, user:<name> or group:<name>")]
    [InlineData(" , ", "--report-access names nobody; expected subject:<name>, user:<name> or group:<name>")]
    public void Entries_that_would_open_the_report_to_everyone_or_mean_nothing_stop_serve(string text, string error) =>
        Assert.Equal(error, Assert.Throws<ConfigException>(() => ReportAccess.Parse(text)).Message);

    [Fact]
    public void Users_and_groups_are_matched_exactly()
    {
        var access = ReportAccess.Parse("user:alice, group:security");

        Assert.True(access.AllowsUser("alice", []));
        Assert.True(access.AllowsUser("carol", ["developers", "security"]));
        Assert.False(access.AllowsUser("Alice", ["Security"]));
    }
}
