using System.CommandLine;
using ConfigInjector.Configuration;
using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using ConfigInjector.Policies;
using Microsoft.Extensions.Logging.Abstractions;

namespace ConfigInjector.Cli;

/// <summary><c>configinjector policy check</c>: would these refs be allowed for this namespace and service account, and by which rule.</summary>
internal static class PolicyCommand
{
    public static Command Create(CommonOptions common)
    {
        var ns = new Option<string>("--namespace", "-n") { Description = "the pod's namespace", Required = true };
        var sa = new Option<string>("--service-account") { Description = "the pod's service account", DefaultValueFactory = _ => "default" };
        var refs = new Argument<string[]>("REF") { Description = "<backend>:<path>[#<key>][@<version>]", Arity = ArgumentArity.OneOrMore };
        var check = new Command("check", "Check refs against the SecretPolicies: allowed (and by which rule) or denied.") { ns, sa, refs };
        common.AddTo(check);
        check.SetAction(async parse =>
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
            var denied = false;
            foreach (var reference in parsed)
            {
                var decision = PolicyEvaluator.Evaluate(source.Current, subject, reference);
                denied |= !decision.Allowed;
                await output.WriteLineAsync(decision.Allowed
                    ? $"allowed  {reference}  by SecretPolicy {decision.Policy} rules[{decision.RuleIndex}] (onBackendError: {decision.OnBackendError.Word()}, rotation: every {DurationParser.Format(decision.Rotation.Interval)}, {(decision.Rotation.OnChange == RotationMode.Restart ? "restart" : "none")})"
                    : $"denied   {reference}  {decision.Reason}");
            }
            return denied ? ExitCodes.Failed : ExitCodes.Ok;
        });
        return new Command("policy", "Work with SecretPolicies offline.") { check };
    }
}
