using System.CommandLine;
using ConfigInjector.Configuration;
using ConfigInjector.Core.Report;

namespace ConfigInjector.Cli;

/// <summary>
/// The options of the verbs that act on a cluster through the user's kubeconfig (<c>report</c>, <c>rotate</c>), as
/// kubectl hands a plugin its arguments: <c>kubectl configinjector rotate --context c -n ns</c> lands here.
/// </summary>
internal sealed class ClusterOptions
{
    public Option<string?> Kubeconfig { get; } = new("--kubeconfig") { Description = "kubeconfig file (default: KUBECONFIG, then ~/.kube/config, then the in-cluster service account)" };

    public Option<string?> Context { get; } = new("--context") { Description = "the kubeconfig context to use (default: its current-context)" };

    public Option<string> InjectorNamespace { get; } = new("--injector-namespace")
    {
        Description = "the namespace the injector runs in (its signing-key Secret verifies managed Secrets and makes KV v1 and file versions)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("POD_NAMESPACE") is { Length: > 0 } podNamespace ? podNamespace : "config-injector",
    };

    public Option<string> Release { get; } = new("--release") { Description = $"the install's release name (serve's --release): its signing-key Secret holds the version seed (default {Hosting.ReleaseNames.DefaultRelease})", DefaultValueFactory = _ => Hosting.ReleaseNames.DefaultRelease };

    public void AddTo(Command command)
    {
        command.Options.Add(Kubeconfig);
        command.Options.Add(Context);
        command.Options.Add(InjectorNamespace);
        command.Options.Add(Release);
    }

    /// <summary>The install's signing-key Secret: its namespace and name.</summary>
    public (string Namespace, string Name) SigningKey(ParseResult parse) =>
        (parse.GetValue(InjectorNamespace)!, Hosting.ReleaseNames.For(parse.GetValue(Release)!).SigningKey);

    /// <summary>The value of <c>--ref</c>: a ref, a path, a prefix ending in '/', or a glob.</summary>
    public static RefPattern Pattern(ParseResult parse, Option<string> reference) =>
        RefPattern.Parse(parse.GetValue(reference)) is { IsOk: true } pattern ? pattern.Value! : throw new ConfigException($"--ref {RefPattern.Parse(parse.GetValue(reference)).Error}");

    /// <summary>The value of <c>--wait</c>: null when not given.</summary>
    public static TimeSpan? Wait(ParseResult parse, Option<string?> wait) =>
        parse.GetValue(wait) is not { } text ? null
            : DurationParser.TryParse(text, out var span) && span > TimeSpan.Zero ? span : throw new ConfigException($"--wait \"{text}\": expected a duration such as 30s or 10m");
}
