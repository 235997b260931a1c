using System.CommandLine;
using ConfigInjector.Backends;
using ConfigInjector.Configuration;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;

namespace ConfigInjector.Cli;

/// <summary>
/// <c>configinjector resolve REF</c>: reads one ref as the webhook would and prints its version and metadata; the value
/// only with <c>--show-value</c>. <c>--as NAMESPACE/SERVICEACCOUNT</c> reads an <c>identity: pod</c> backend as that
/// service account, as the webhook would for its pods. A ref in a lease-issuing engine (dynamic) is said to be one
/// and issues nothing unless <c>--issue</c> is given (<see cref="DynamicResolve"/>).
/// </summary>
internal static class ResolveCommand
{
    public static Command Create(CommonOptions common)
    {
        var reference = new Argument<string>("REF") { Description = "<backend>:<path>[#<key>][@<version>]" };
        var showValue = new Option<bool>("--show-value") { Description = "also print the value (it goes to your terminal: mind who is watching)" };
        var readAs = new Option<string?>("--as") { Description = "NAMESPACE/SERVICEACCOUNT: read as that service account, for backends with identity: pod (needs the cluster)" };
        var issue = new Option<bool>("--issue") { Description = "for a dynamic ref: issue one credential, show its lease, and revoke it before exiting" };
        var cluster = new ClusterServiceAccounts();
        var command = new Command("resolve", "Read one reference from its backend and show its version and keys.") { reference, showValue, readAs, issue };
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

            var issuers = services.GetRequiredService<LeaseIssuers>();
            var read = await reader.ReadAsync(reader.KeyFor(wanted.Location, subject), cancellationToken);
            // A KV read of a path in a lease-issuing engine is refused before anything is read: only then ask what it is.
            if (read.Status != ReadStatus.Found && await issuers.EngineOfAsync(wanted.Location, subject, cancellationToken) is { } engine)
            {
                var dynamic = new DynamicResolve(issuers, output, error, TimeProvider.System);
                return await dynamic.RunAsync(text, wanted, settings, engine, subject, parse.GetValue(issue), parse.GetValue(showValue), cancellationToken);
            }
            if (parse.GetValue(issue) && read.Status == ReadStatus.Found)
                throw new ConfigException($"--issue: {text} is a KV secret, read and not issued; drop --issue");
            if (read.Status != ReadStatus.Found)
            {
                await error.WriteLineAsync($"configinjector: {text}: {read.Status switch { ReadStatus.NotFound => "not found", ReadStatus.Refused => "refused", _ => "backend error" }}: {read.Reason}");
                return ExitCodes.Failed;
            }
            var document = read.Document!;
            await WriteHeaderAsync(output, text, settings, subject, wanted.Path);
            await output.WriteLineAsync($"version:  {document.Version}");
            await output.WriteLineAsync($"keys:     {string.Join(", ", document.Data.Keys.Order(StringComparer.Ordinal))}");
            return await WriteKeyAsync(output, error, text, wanted.Key, document.Data, parse.GetValue(showValue), "path");
        });
        return command;
    }

    public static async Task WriteHeaderAsync(TextWriter output, string text, BackendSettings settings, Subject? subject, string path)
    {
        await output.WriteLineAsync($"ref:      {text}");
        await output.WriteLineAsync($"backend:  {settings.Name} (type {settings.Type}, {(settings.Sensitive ? "sensitive" : "not sensitive")})");
        if (subject is not null)
            await output.WriteLineAsync($"read as:  service account {subject.Namespace}/{subject.ServiceAccount}");
        await output.WriteLineAsync($"path:     {path}");
    }

    /// <summary>The key the ref names (or the only one), and its value only when asked: even its length narrows a guess.</summary>
    public static async Task<int> WriteKeyAsync(TextWriter output, TextWriter error, string text, string? wanted, IReadOnlyDictionary<string, string> data, bool showValue, string holder)
    {
        var key = wanted ?? (data.Count == 1 ? data.Keys.First() : null);
        if (key is null)
        {
            await error.WriteLineAsync($"configinjector: {text}: the {holder} holds {data.Count} keys; name one with #<key>");
            return ExitCodes.Failed;
        }
        if (!data.TryGetValue(key, out var value))
        {
            await error.WriteLineAsync($"configinjector: {text}: the {holder} has no key \"{key}\"");
            return ExitCodes.Failed;
        }
        await output.WriteLineAsync(showValue ? $"key:      {key} ({value.Length} characters)" : $"key:      {key}");
        await output.WriteLineAsync(showValue ? $"value:    {value}" : "value:    (hidden; --show-value prints it)");
        return ExitCodes.Ok;
    }
}
