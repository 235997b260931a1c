using System.Net;
using ConfigInjector.TestSupport;
using ConfigInjector.Tls;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace ConfigInjector.Tests.Tls;

/// <summary>
/// The serving certificate mounted from a Secret, laid out as kubelet lays it out (tls.crt -> ..data/tls.crt,
/// ..data -> ..&lt;timestamp&gt;) and rotated as kubelet rotates it: a new timestamped folder, then ..data replaced by
/// an atomic rename. The links the webhook was given never change; the certificate must anyway.
/// </summary>
public class MountedSecretTests
{
    private static string WriteVersion(string volume, string version, string subject)
    {
        var folder = Path.Combine(volume, "..2026_11_29_" + version);
        using var authority = CertificateFactory.CreateAuthority(subject, TimeSpan.FromDays(1), DateTimeOffset.UtcNow);
        using var serving = CertificateFactory.CreateServing(authority, ["config-injector.config-injector.svc"], [IPAddress.Loopback], TimeSpan.FromDays(1), DateTimeOffset.UtcNow);
        CertificateFactory.WritePem(folder, authority, serving);
        return folder;
    }

    private static void PointDataAt(string volume, string folder)
    {
        var staging = Path.Combine(volume, "..data_tmp");
        File.CreateSymbolicLink(staging, Path.GetFileName(folder));
        // rename(2), as kubelet's atomic writer does it (File.Move refuses a link that points at a folder).
        using var rename = System.Diagnostics.Process.Start("mv", ["-T", staging, Path.Combine(volume, "..data")]);
        rename.WaitForExit();
        Assert.Equal(0, rename.ExitCode);
    }

    [Fact]
    public void A_swap_of_the_mounted_secret_is_picked_up_on_the_next_poll()
    {
        var volume = ScratchDirectory.Create();
        var first = WriteVersion(volume, "10_00_00.1", "first CA");
        PointDataAt(volume, first);
        File.CreateSymbolicLink(Path.Combine(volume, "tls.crt"), Path.Combine("..data", "tls.crt"));
        File.CreateSymbolicLink(Path.Combine(volume, "tls.key"), Path.Combine("..data", "tls.key"));
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var source = new CertificateSource(Path.Combine(volume, "tls.crt"), Path.Combine(volume, "tls.key"), time, NullLogger<CertificateSource>.Instance);
        Assert.Equal("CN=first CA", source.Current!.Issuer);

        var second = WriteVersion(volume, "11_00_00.2", "second CA");
        PointDataAt(volume, second);
        Directory.Delete(first, recursive: true);
        time.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal("CN=second CA", source.Current!.Issuer);
        Assert.Null(source.Problem);
    }
}
