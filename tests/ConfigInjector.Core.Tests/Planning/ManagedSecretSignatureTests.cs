using ConfigInjector.Core.Planning;

namespace ConfigInjector.Core.Tests.Planning;

public class ManagedSecretSignatureTests
{
    private static readonly byte[] Key = [.. Enumerable.Range(0, 32).Select(i => (byte)i)];
    private static readonly Dictionary<string, KeySource> Sources = new() { ["DB"] = new("vault:secret/db#password", "3") };

    [Fact]
    public void A_signature_verifies_and_survives_a_new_version()
    {
        var signature = ManagedSecretSignature.Sign(Key, "shop", "configinjector-web-1", "api", Sources);

        Assert.True(ManagedSecretSignature.Verify(Key, "shop", "configinjector-web-1", "api", Sources, signature));
        Assert.True(ManagedSecretSignature.Verify(Key, "shop", "configinjector-web-1", "api", new Dictionary<string, KeySource> { ["DB"] = new("vault:secret/db#password", "4") }, signature));
    }

    [Theory]
    [InlineData("other", "configinjector-web-1", "api", "vault:secret/db#password")]
    [InlineData("shop", "configinjector-web-2", "api", "vault:secret/db#password")]
    [InlineData("shop", "configinjector-web-1", "admin", "vault:secret/db#password")]
    [InlineData("shop", "configinjector-web-1", "api", "vault:secret/other-team/db#password")]
    public void Changing_namespace_name_service_account_or_a_ref_breaks_it(string ns, string name, string serviceAccount, string reference)
    {
        var signature = ManagedSecretSignature.Sign(Key, "shop", "configinjector-web-1", "api", Sources);

        Assert.False(ManagedSecretSignature.Verify(Key, ns, name, serviceAccount, new Dictionary<string, KeySource> { ["DB"] = new(reference, "3") }, signature));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not base64!")]
    [InlineData("AAAA")]
    public void Missing_or_malformed_signatures_do_not_verify(string? signature) =>
        Assert.False(ManagedSecretSignature.Verify(Key, "shop", "configinjector-web-1", "api", Sources, signature));

    [Fact]
    public void Another_key_does_not_verify()
    {
        var signature = ManagedSecretSignature.Sign(Key, "shop", "n", "api", Sources);

        Assert.False(ManagedSecretSignature.Verify(new byte[32], "shop", "n", "api", Sources, signature));
    }
}
