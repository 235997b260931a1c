using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ConfigInjector.TestSupport;

namespace ConfigInjector.Tests.Chart;

/// <summary>
/// With <c>tls.mode=secret</c> the user makes the certificate, so its names must come from the chart: the commands
/// <c>helm install</c> prints (in its notes, and in the error for a missing caBundle) are run here with the real
/// <c>certs generate</c>, and the certificate they make must name the Service the API server calls, in a Secret the
/// Deployment mounts. The chart README's example must be those commands for the release it shows.
/// </summary>
public partial class CertificateNamesTests
{
    private const string SecretName = "my-webhook-tls";
    private static readonly string[] SecretMode = ["--set", "tls.mode=secret", "--set", $"tls.secret.name={SecretName}"];

    public static TheoryData<string, string> Releases => new()
    {
        // The Service of this release is "config-injector", not "config-injector-config-injector".
        { "config-injector", "config-injector" },
        { "acme", "platform" },
    };

    [Theory]
    [MemberData(nameof(Releases))]
    public async Task The_printed_commands_make_a_certificate_for_the_rendered_service_in_the_secret_the_deployment_mounts(string release, string ns)
    {
        var (objects, notes) = await Helm.InstallDryRunAsync(release, ns, [.. SecretMode, "--set", "tls.secret.caBundle=Y2E="]);
        var (code, _, stopped) = await Helm.RunAsync(["template", release, Helm.Chart, "--namespace", ns, .. SecretMode]);
        var printed = Commands.From(notes);

        Assert.NotEqual(0, code);
        Assert.Equal(printed, Commands.From(stopped));
        var names = await DnsNamesOfGeneratedCertificateAsync(printed.CertsGenerate);
        var service = objects.Single("Service")["metadata"]!;
        var called = objects.Single("MutatingWebhookConfiguration")["webhooks"]![0]!["clientConfig"]!["service"]!;
        Assert.Contains($"{service["name"]}.{service["namespace"]}.svc", names);
        Assert.Contains($"{called["name"]}.{called["namespace"]}.svc", names);
        Assert.Equal((MountedSecret(objects), ns), (printed.SecretName, printed.SecretNamespace));
    }

    [Fact]
    public async Task The_chart_readme_shows_the_commands_the_chart_prints_for_its_example_release()
    {
        var readme = await File.ReadAllTextAsync(Path.Combine(Helm.Chart, "README.md"));
        var (objects, notes) = await Helm.InstallDryRunAsync("config-injector", "config-injector", [.. SecretMode, "--set", "tls.secret.caBundle=Y2E="]);

        Assert.Equal(Commands.From(notes), Commands.From(readme));
        // The self-signed Secret's name as the README gives it for the same release.
        var (selfSigned, _) = await Helm.InstallDryRunAsync("config-injector", "config-injector");
        Assert.Contains($"`{selfSigned.Single("Secret")["metadata"]!["name"]}`", readme, StringComparison.Ordinal);
        Assert.Equal(SecretName, MountedSecret(objects));
    }

    private static string MountedSecret(IReadOnlyList<JsonObject> objects) =>
        objects.Single("Deployment")["spec"]!["template"]!["spec"]!["volumes"]!.AsArray().Single(v => v!["name"]!.GetValue<string>() == "tls")!["secret"]!["secretName"]!.GetValue<string>();

    /// <summary>Runs the printed <c>certs generate</c> in-process into a scratch folder; the certificate's DNS names.</summary>
    private static async Task<List<string>> DnsNamesOfGeneratedCertificateAsync(string[] certsGenerate)
    {
        var folder = ScratchDirectory.Create();
        var args = certsGenerate.ToList();
        args[args.IndexOf("--out") + 1] = folder;
        var (code, caBundle, error) = await CliRunner.RunAsync([.. args]);
        Assert.True(code == 0, error);
        Assert.NotEmpty(caBundle.Trim());
        using var certificate = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(Path.Combine(folder, "tls.crt")));
        Directory.Delete(folder, recursive: true);
        return [.. certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames()];
    }

    /// <summary>The two commands, as printed: <c>configinjector certs generate …</c> and <c>kubectl -n NS create secret tls NAME …</c>.</summary>
    private sealed record Commands(string CertsGenerateLine, string SecretNamespace, string SecretName, string CreateSecretLine)
    {
        public string[] CertsGenerate => CertsGenerateLine.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..];

        public static Commands From(string text)
        {
            var certs = CertsGenerateCommand().Matches(text).Select(m => m.Value.Trim()).Distinct().ToList();
            var secret = CreateSecretCommand().Matches(text).Select(m => m).DistinctBy(m => m.Value.Trim()).ToList();
            Assert.True(certs.Count == 1 && secret.Count == 1, $"expected one certs generate and one create secret command in:\n{text}");
            return new Commands(certs[0], secret[0].Groups["ns"].Value, secret[0].Groups["name"].Value, secret[0].Value.Trim());
        }
    }

    [GeneratedRegex(@"configinjector certs generate [^\n`]*")]
    private static partial Regex CertsGenerateCommand();

    [GeneratedRegex(@"kubectl -n (?<ns>\S+) create secret tls (?<name>\S+) [^\n`]*")]
    private static partial Regex CreateSecretCommand();
}
