using System.CommandLine;
using System.Text.Json.Nodes;
using ConfigInjector.Backends;
using ConfigInjector.Configuration;
using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;
using ConfigInjector.Core.Templates;
using ConfigInjector.Manifests;
using ConfigInjector.Policies;
using Microsoft.Extensions.Logging.Abstractions;

namespace ConfigInjector.Cli;

/// <summary>
/// <c>configinjector template check -f FILE --namespace NS</c>: for each template annotation of each pod template, its
/// refs (allowed by which rule, or denied; the version found) and the text it renders with every value masked.
/// </summary>
internal static class TemplateCommand
{
    public static Command Create(CommonOptions common)
    {
        var file = new Option<string>("--filename", "-f") { Description = "manifest file (YAML or JSON, multi-document), or - for standard input", Required = true };
        var ns = new Option<string>("--namespace", "-n") { Description = "the pods' namespace (for the policies)", Required = true };
        var sa = new Option<string?>("--service-account") { Description = "the pods' service account (default: each pod template's own, else default)" };
        var cluster = new ClusterServiceAccounts();
        var check = new Command("check", "Show each template's refs, whether the policies allow them, and what it renders (values masked).") { file, ns, sa };
        common.AddTo(check);
        cluster.AddTo(check);
        check.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var documents = await ManifestInput.ReadAsync(parse.GetValue(file)!, cancellationToken);
            var config = ConfigFileReader.Load(parse.GetValue(common.Config), Directory.GetCurrentDirectory());
            using var policies = new FolderPolicySource(PolicyFolder.Resolve(parse.GetValue(common.Policies)), TimeProvider.System, NullLogger<FolderPolicySource>.Instance, watch: false);
            foreach (var ignored in policies.LastErrors)
                await error.WriteLineAsync($"warning: ignored: {ignored}");
            // identity: pod backends are read as each pod template's service account, as the webhook would.
            using var services = OfflineBackends.Build(config, accounts: cluster.For(parse));
            var reader = services.GetRequiredService<SecretReader>();
            var configured = config.Backends.Select(b => b.Name).ToHashSet(StringComparer.Ordinal);

            var failed = false;
            var found = 0;
            foreach (var manifest in ManifestInput.Objects(documents))
            {
                if (PodTemplates.Find(manifest) is not { } pod)
                    continue;
                var annotations = (pod["metadata"]?["annotations"] as JsonObject)?
                    .Where(a => a.Value is JsonValue v && v.TryGetValue<string>(out _))
                    .ToDictionary(a => a.Key, a => a.Value!.GetValue<string>());
                var parsed = AnnotationParser.Parse(annotations);
                var templateErrors = parsed.Errors.Where(IsAboutTemplates).ToList();
                if (parsed.Request.Composed.Count == 0 && templateErrors.Count == 0)
                    continue;
                found++;
                var serviceAccount = parse.GetValue(sa)
                    ?? (pod["spec"]?["serviceAccountName"] is JsonValue name && name.TryGetValue<string>(out var text) && text.Length > 0 ? text : "default");
                var subject = new Subject(parse.GetValue(ns)!, serviceAccount);
                await output.WriteLineAsync($"{manifest["kind"]} {manifest["metadata"]?["name"]} (namespace {subject.Namespace}, service account {subject.ServiceAccount})");
                foreach (var mistake in templateErrors)
                    await output.WriteLineAsync($"  error    {mistake}");
                failed |= templateErrors.Count > 0;

                foreach (var request in parsed.Request.Composed)
                {
                    var reads = new Dictionary<SecretLocation, SecretRead>();
                    foreach (var location in TemplateChecker.Locations(request, policies.Current, subject).Distinct())
                    {
                        reads[location] = configured.Contains(location.Backend)
                            ? await reader.ReadAsync(reader.KeyFor(location, subject), cancellationToken)
                            : SecretRead.Failed(location, $"backend \"{location.Backend}\" is not configured (configured: {string.Join(", ", configured.Order())})");
                    }
                    var result = TemplateChecker.Check(request, policies.Current, subject, reads);
                    failed |= !result.Ok;
                    await WriteAsync(output, result);
                }
            }
            if (found == 0)
                await output.WriteLineAsync("no template annotations (template.*, file-template.*, file-from.*) in these manifests");
            return failed ? ExitCodes.Failed : ExitCodes.Ok;
        });
        return new Command("template", "Work with template annotations offline.") { check };
    }

    private static bool IsAboutTemplates(string error) =>
        error.StartsWith(AnnotationKeys.TemplateEnv, StringComparison.Ordinal) || error.StartsWith(AnnotationKeys.FileTemplate, StringComparison.Ordinal)
        || error.StartsWith(AnnotationKeys.FileFrom, StringComparison.Ordinal) || error.StartsWith(AnnotationKeys.FileFormat, StringComparison.Ordinal);

    private static async Task WriteAsync(TextWriter output, ComposedCheck check)
    {
        var format = check.Request.Source.Format is { } f ? $" (format {f.ToString().ToLowerInvariant()})" : "";
        await output.WriteLineAsync($"  {check.Request.Annotation}{format}");
        foreach (var reference in check.Refs)
        {
            var decision = reference.Decision;
            var line = !decision.Allowed ? $"    denied   {reference.Ref}  {decision.Reason}"
                : reference.Problem is not null ? $"    error    {reference.Ref}  allowed by SecretPolicy {decision.Policy} rules[{decision.RuleIndex}], but {reference.Problem}"
                : $"    allowed  {reference.Ref}  by SecretPolicy {decision.Policy} rules[{decision.RuleIndex}], version {reference.Version}";
            await output.WriteLineAsync(line);
        }
        if (check.Problem is not null)
            await output.WriteLineAsync($"    error    {check.Problem}");
        if (check.Shape is null)
            return;
        var lines = check.Shape.TrimEnd('\n').Split('\n');
        if (lines.Length == 1)
        {
            await output.WriteLineAsync($"    renders  {lines[0]}");
            return;
        }
        await output.WriteLineAsync("    renders");
        foreach (var line in lines)
            await output.WriteLineAsync($"      | {line}");
    }
}
