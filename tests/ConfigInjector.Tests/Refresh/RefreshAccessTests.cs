using ConfigInjector.Configuration;
using ConfigInjector.Report;
using ConfigInjector.TestSupport;

namespace ConfigInjector.Tests.Refresh;

/// <summary><c>--refresh-access</c>: the forms of <c>--report-access</c> and their refusals, plus one shared secret file that must exist.</summary>
public class RefreshAccessTests
{
    private readonly string _work = ScratchDirectory.Create();

    [Theory]
    [InlineData("group:system:authenticated", "--refresh-access group:system:authenticated: every pod's service account, every node (or everyone) is in that group; name the security team's group or users")]
    [InlineData("team:security", "--refresh-access \"team:security\": expected subject:<certificate subject or CN>, user:<name>, group:<name> or secret-file:<path>")]
    [InlineData(" , ", "--refresh-access names nobody; expected subject:<name>, user:<name>, group:<name> or secret-file:<path>")]
    [InlineData("secret-file:", "--refresh-access: secret-file:PATH names one file (the shared secret), once")]
    [InlineData("secret-file:a,secret-file:b", "--refresh-access: secret-file:PATH names one file (the shared secret), once")]
    [InlineData("group:deployers,secret-file:missing", "--refresh-access secret-file:missing: no such file (mount the Secret that holds the shared secret there)")]
    public void Entries_that_open_it_to_everyone_mean_nothing_or_name_no_file_stop_serve(string text, string error) =>
        Assert.Equal(error, Assert.Throws<ConfigException>(() => RefreshAccess.Parse(text, _work)).Message);

    [Fact]
    public void People_and_a_secret_file_together()
    {
        File.WriteAllText(Path.Combine(_work, "secret"), "x");

        var access = RefreshAccess.Parse("group:deployers, secret-file:secret", _work);

        Assert.Equal(Path.Combine(_work, "secret"), access.SecretFile);
        Assert.True(access.People.AllowsUser("ci", ["deployers"]));
        Assert.False(access.People.UsesTokens && access.People.AllowsUser("dev", ["developers"]));
    }
}
