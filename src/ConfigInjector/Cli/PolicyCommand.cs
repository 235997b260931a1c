using System.CommandLine;
using ConfigInjector.Backends;
using ConfigInjector.Configuration;
using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using ConfigInjector.Policies;
using Microsoft.Extensions.Logging.Abstractions;

namespace ConfigInjector.Cli;

/// <summary>
/// <c>configinjector policy check</c>: would these refs be allowed for this namespace and service account, and by which
/// rule; for a backend with <c>identity: pod</c>, also whether the vault lets that service account read it (a read as
/// it: found, refused or unreachable, never the value), since both gates must allow.
/// </summary>
internal static class PolicyCommand
{
    public static Command Create(CommonOptions common)
    {
        var ns = new Option<string>("--namespace", "-n") { Description = "the pod's namespace", Required = true };
        var sa = new Option<string>("--service-account") { Description = "the pod's service account", DefaultValueFactory = _ => "default" };
        var refs = new Argument<string[]>("REF") { Description = "<backend>:<path>[#<key>][@<version>]", Arity = ArgumentArity.OneOrMore };
        var cluster = new ClusterServiceAccounts();
        var check = new Command("check", "Check refs against the SecretPolicies: allowed (and by which rule) or denied; for identity: pod backends, also whether the vault allows the service account.") { ns, sa, refs };
        common.AddTo(check);
        cluster.AddTo(check);
        check.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var parsed = new List<SecretReference>();
            foreach (var text in parse.GetValue(refs)!)
            {
                var result = ReferenceParser.Parse(text);
                parsed.Add(result.IsOk ? result.Value! : throw new ConfigException($"{text}: {result.Error}"));
            }
            using var source = new FolderPolicySource(PolicyFolder.Resolve(parse.GetValue(common.Policies)), TimeProvider.System, NullLogger<FolderPolicySource>.Instance, watch: false);
            foreach (var ignored in source.LastErrors)
                await error.WriteLineAsync($"warning: ignored: {ignored}");

            var subject = new Subject(parse.GetValue(ns)!, parse.GetValue(sa)!);
            // The backends matter only for the vault's answer under identity: pod: without --config, a default that
            // cannot be read leaves that gate unchecked rather than failing the policy check.
            InjectorConfig config;
            try
            {
                config = ConfigFileReader.Load(parse.GetValue(common.Config), Directory.GetCurrentDirectory());
            }
            catch (ConfigException e) when (parse.GetValue(common.Config) is null)
            {
                await error.WriteLineAsync($"warning: backends not read ({e.Message}); the vault's answer is not checked");
                config = new InjectorConfig([], TimeSpan.Zero, InjectorConfig.DefaultMaxRequestBytes, null);
            }
            // Only the identity: pod backends are built: the others are never read here.
            using var services = OfflineBackends.Build(config with { Backends = [.. config.Backends.Where(b => b.Identity == BackendIdentity.Pod)] }, accounts: cluster.For(parse));
            var vault = new VaultVerdict(services.GetRequiredService<SecretReader>());
            var denied = false;
            foreach (var reference in parsed)
            {
                var decision = PolicyEvaluator.Evaluate(source.Current, subject, reference);
                denied |= !decision.Allowed;
                await output.WriteLineAsync(decision.Allowed
                    ? $"allowed  {reference}  by SecretPolicy {decision.Policy} rules[{decision.RuleIndex}] (onBackendError: {decision.OnBackendError.Word()}, rotation: every {DurationParser.Format(decision.Rotation.Interval)}, {(decision.Rotation.OnChange == RotationMode.Restart ? "restart" : "none")})"
                    : $"denied   {reference}  {decision.Reason}");
                if (decision.Allowed && await vault.CheckAsync(reference, subject, cancellationToken) is { } answer)
                {
                    denied |= !answer.Allowed;
                    await output.WriteLineAsync($"         vault: {answer.Text}");
                }
            }
            return denied ? ExitCodes.Failed : ExitCodes.Ok;
        });
        return new Command("policy", "Work with SecretPolicies offline.") { check };
    }
}
