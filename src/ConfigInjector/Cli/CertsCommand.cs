using System.CommandLine;
using System.Text;
using System.Text.RegularExpressions;
using ConfigInjector.Configuration;
using ConfigInjector.Tls;

namespace ConfigInjector.Cli;

/// <summary><c>configinjector certs generate</c>: a CA and a serving certificate for the webhook's Service; prints the caBundle.</summary>
internal static partial class CertsCommand
{
    private static readonly string[] OutputFiles = ["ca.crt", "ca.key", "tls.crt", "tls.key"];

    public static Command Create(CommonOptions common)
    {
        var service = new Option<string>("--service") { Description = "the webhook's Service name", Required = true };
        var ns = new Option<string>("--namespace", "-n") { Description = "the Service's namespace", Required = true };
        var outDir = new Option<string>("--out") { Description = "folder for ca.crt, ca.key, tls.crt, tls.key", Required = true };
        var days = new Option<int>("--days") { Description = "validity of the serving certificate in days", DefaultValueFactory = _ => 365 };
        var force = new Option<bool>("--force") { Description = "overwrite existing files" };
        var generate = new Command("generate", "Create a CA and a serving certificate with the Service's DNS names; print the base64 caBundle.") { service, ns, outDir, days, force };
        common.AddTo(generate);
        generate.SetAction(async parse =>
        {
            var name = parse.GetValue(service)!;
            var namespaceName = parse.GetValue(ns)!;
            var folder = parse.GetValue(outDir)!;
            var validDays = parse.GetValue(days);
            if (!DnsLabel().IsMatch(name))
                throw new ConfigException($"--service: \"{name}\" is not a valid Service name (lowercase letters, digits and '-')");
            if (!DnsLabel().IsMatch(namespaceName))
                throw new ConfigException($"--namespace: \"{namespaceName}\" is not a valid namespace name");
            if (validDays is < 1 or > 3650)
                throw new ConfigException($"--days: {validDays} is not from 1 to 3650");
            var existing = OutputFiles.Where(f => File.Exists(Path.Combine(folder, f))).ToList();
            if (existing.Count > 0 && !parse.GetValue(force))
                throw new ConfigException($"--out: {folder} already holds {string.Join(", ", existing)}; use --force to replace them");

            var now = DateTimeOffset.UtcNow;
            using var authority = CertificateFactory.CreateAuthority($"{name}.{namespaceName} webhook CA", TimeSpan.FromDays(Math.Max(validDays, 3650)), now);
            string[] names = [name, $"{name}.{namespaceName}", $"{name}.{namespaceName}.svc", $"{name}.{namespaceName}.svc.cluster.local"];
            using var serving = CertificateFactory.CreateServing(authority, names, [], TimeSpan.FromDays(validDays), now);
            CertificateFactory.WritePem(folder, authority, serving, writeAuthorityKey: true);
            var caBundle = Convert.ToBase64String(Encoding.ASCII.GetBytes(authority.ExportCertificatePem() + "\n"));
            await parse.InvocationConfiguration.Error.WriteLineAsync($"wrote ca.crt, ca.key, tls.crt, tls.key to {folder} (SANs: {string.Join(", ", names)}; valid {validDays} days); caBundle:");
            await parse.InvocationConfiguration.Output.WriteLineAsync(caBundle);
            return ExitCodes.Ok;
        });
        return new Command("certs", "TLS material for the webhook.") { generate };
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
    private static partial Regex DnsLabel();
}
