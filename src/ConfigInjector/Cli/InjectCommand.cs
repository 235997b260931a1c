using System.CommandLine;
using System.Text.Json.Nodes;
using ConfigInjector.Configuration;
using ConfigInjector.Manifests;
using ConfigInjector.Policies;
using k8s;
using Microsoft.Extensions.Logging.Abstractions;

namespace ConfigInjector.Cli;

/// <summary>
/// <c>configinjector inject -f FILE|-</c>: what the webhook would do to every pod template of a manifest set, printed
/// as multi-document YAML with the managed Secrets they need, ready for <c>kubectl apply -f -</c> (like istioctl kube-inject).
/// </summary>
internal static class InjectCommand
{
    public static Command Create(CommonOptions common)
    {
        var file = new Option<string>("--filename", "-f") { Description = "manifest file (YAML or JSON, multi-document), or - for standard input", Required = true };
        var ns = new Option<string>("--namespace", "-n") { Description = "namespace for manifests that name none", DefaultValueFactory = _ => "default" };
        var command = new Command("inject", "Print manifests with injection applied, plus the managed Secrets they need.") { file, ns };
        common.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var path = parse.GetValue(file)!;
            var documents = await ManifestInput.ReadAsync(path, cancellationToken);

            var config = ConfigFileReader.Load(parse.GetValue(common.Config), Directory.GetCurrentDirectory());
            using var policies = new FolderPolicySource(PolicyFolder.Resolve(parse.GetValue(common.Policies)), TimeProvider.System, NullLogger<FolderPolicySource>.Instance, watch: false);
            OfflineInjector.Result result;
            try
            {
                using var injector = new OfflineInjector(config, policies);
                result = await injector.InjectAsync(documents, parse.GetValue(ns)!, cancellationToken);
            }
            catch (Exception e) when (e is System.Text.Json.JsonException or FormatException)
            {
                throw new ConfigException($"{path}: a pod template is not a valid pod: {e.Message.Split('\n')[0]}");
            }

            foreach (var warning in result.Warnings)
                await error.WriteLineAsync($"warning: {warning}");
            if (result.Denials.Count > 0)
            {
                // Nothing on stdout: a partial set piped into kubectl would deploy workloads without their secrets.
                foreach (var denial in result.Denials)
                    await error.WriteLineAsync($"denied: {denial}");
                return ExitCodes.Failed;
            }
            var parts = result.Documents.Select(YamlJson.ToYaml).Concat(result.Secrets.Select(s => YamlJson.ToYaml(JsonNode.Parse(KubernetesJson.Serialize(s)))));
            await output.WriteAsync(string.Join("---\n", parts.Select(p => p.EndsWith('\n') ? p : p + "\n")));
            return ExitCodes.Ok;
        });
        return command;
    }
}
