using ConfigInjector.Configuration;
using ConfigInjector.Report;
using ConfigInjector.TestSupport;
using ConfigInjector.Tls;

namespace ConfigInjector.Tests.Report;

public class ReportAccessTests
{
    [Theory]
    [InlineData("group:system:authenticated", "--report-access group:system:authenticated: every pod's service account, every node (or everyone) is in that group; name the security team's group or users")]
    [InlineData("group:system:serviceaccounts:shop", "--report-access group:system:serviceaccounts:shop: every pod's service account, every node (or everyone) is in that group; name the security team's group or users")]
    [InlineData("group:system:nodes", "--report-access group:system:nodes: every pod's service account, every node (or everyone) is in that group; name the security team's group or users")]
    [InlineData("user:alice,group:system:bootstrappers", "--report-access group:system:bootstrappers: every pod's service account, every node (or everyone) is in that group; name the security team's group or users")]
    [InlineData("group:system:bootstrappers:kubeadm:default-node-token", "--report-access group:system:bootstrappers:kubeadm:default-node-token: every pod's service account, every node (or everyone) is in that group; name the security team's group or users")]
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

    [Fact]
    public void A_certificate_whose_subject_is_one_multi_valued_rdn_is_matched_by_its_cn()
    {
        var access = ReportAccess.Parse("subject:alice");
        var authority = CertificateFactory.CreateAuthority("people", TimeSpan.FromDays(1), DateTimeOffset.UtcNow);

        var alice = ClientCertificateFactory.Issue(authority, ClientCertificateFactory.MultiValued((ClientCertificateFactory.Organization, "security"), (ClientCertificateFactory.CommonName, "alice")));
        var mallory = ClientCertificateFactory.Issue(authority, ClientCertificateFactory.MultiValued((ClientCertificateFactory.CommonName, "mallory"), (ClientCertificateFactory.Organization, "alice")));

        Assert.True(access.AllowsCertificate(alice));
        Assert.False(access.AllowsCertificate(mallory));
    }
}
