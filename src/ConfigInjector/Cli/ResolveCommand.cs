using System.CommandLine;
using ConfigInjector.Backends;
using ConfigInjector.Configuration;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;

namespace ConfigInjector.Cli;

/// <summary>
/// <c>configinjector resolve REF</c>: reads one ref as the webhook would and prints its version and metadata; the value
/// only with <c>--show-value</c>. <c>--as NAMESPACE/SERVICEACCOUNT</c> reads an <c>identity: pod</c> backend as that
/// service account, as the webhook would for its pods.
/// </summary>
internal static class ResolveCommand
{
    public static Command Create(CommonOptions common)
    {
        var reference = new Argument<string>("REF") { Description = "<backend>:<path>[#<key>][@<version>]" };
        var showValue = new Option<bool>("--show-value") { Description = "also print the value (it goes to your terminal: mind who is watching)" };
        var readAs = new Option<string?>("--as") { Description = "NAMESPACE/SERVICEACCOUNT: read as that service account, for backends with identity: pod (needs the cluster)" };
        var cluster = new ClusterServiceAccounts();
        var command = new Command("resolve", "Read one reference from its backend and show its version and keys.") { reference, showValue, readAs };
        common.AddTo(command);
        cluster.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var text = parse.GetValue(reference)!;
            var parsed = ReferenceParser.Parse(text);
            if (!parsed.IsOk)
                throw new ConfigException($"{text}: {parsed.Error}");
            var wanted = parsed.Value!;
            var subject = parse.GetValue(readAs) is { } asText ? ClusterServiceAccounts.ParseAs(asText) : null;

            var config = ConfigFileReader.Load(parse.GetValue(common.Config), Directory.GetCurrentDirectory());
            var settings = config.Backends.FirstOrDefault(b => b.Name == wanted.Backend)
                ?? throw new ConfigException($"{text}: backend \"{wanted.Backend}\" is not configured (configured: {string.Join(", ", config.Backends.Select(b => b.Name).Order())})");
            // The reader serve and inject use, for the one backend the ref names.
            if ((settings.Identity == BackendIdentity.Pod) != (subject is not null))
            {
                throw new ConfigException(subject is null
                    ? $"{text}: backend \"{settings.Name}\" reads as the pod's service account (identity: pod); name one with --as NAMESPACE/SERVICEACCOUNT"
                    : $"--as: backend \"{settings.Name}\" reads with its own credential (identity: webhook); --as is for identity: pod backends");
            }
            using var services = OfflineBackends.Build(config with { Backends = [settings] }, accounts: cluster.For(parse));
            var reader = services.GetRequiredService<SecretReader>();

            var read = await reader.ReadAsync(reader.KeyFor(wanted.Location, subject), cancellationToken);
            if (read.Status != ReadStatus.Found)
            {
                await error.WriteLineAsync($"configinjector: {text}: {read.Status switch { ReadStatus.NotFound => "not found", ReadStatus.Refused => "refused", _ => "backend error" }}: {read.Reason}");
                return ExitCodes.Failed;
            }
            var document = read.Document!;
            var key = wanted.Key ?? (document.Data.Count == 1 ? document.Data.Keys.First() : null);
            await output.WriteLineAsync($"ref:      {text}");
            await output.WriteLineAsync($"backend:  {settings.Name} (type {settings.Type}, {(settings.Sensitive ? "sensitive" : "not sensitive")})");
            if (subject is not null)
                await output.WriteLineAsync($"read as:  service account {subject.Namespace}/{subject.ServiceAccount}");
            await output.WriteLineAsync($"path:     {wanted.Path}");
            await output.WriteLineAsync($"version:  {document.Version}");
            await output.WriteLineAsync($"keys:     {string.Join(", ", document.Data.Keys.Order(StringComparer.Ordinal))}");
            if (key is null)
            {
                await error.WriteLineAsync($"configinjector: {text}: the path holds {document.Data.Count} keys; name one with #<key>");
                return ExitCodes.Failed;
            }
            if (!document.Data.TryGetValue(key, out var value))
            {
                await error.WriteLineAsync($"configinjector: {text}: the path has no key \"{key}\"");
                return ExitCodes.Failed;
            }
            // Even a value's length narrows a guess: it is shown with the value or not at all.
            if (parse.GetValue(showValue))
            {
                await output.WriteLineAsync($"key:      {key} ({value.Length} characters)");
                await output.WriteLineAsync($"value:    {value}");
            }
            else
            {
                await output.WriteLineAsync($"key:      {key}");
                await output.WriteLineAsync("value:    (hidden; --show-value prints it)");
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}
