using System.CommandLine;
using ConfigInjector.Configuration;
using ConfigInjector.Core.Report;
using ConfigInjector.Kubernetes;
using k8s;

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

    public IKubernetes Connect(ParseResult parse) =>
        KubernetesConnection.Create(parse.GetValue(Kubeconfig), parse.GetValue(Context), userKubeconfig: true).Client
            ?? throw new ConfigException("no cluster: give --kubeconfig, set KUBECONFIG, write ~/.kube/config, or run inside a cluster");

    /// <summary>The install's own keys, read and never written: managed Secrets verified, KV v1 and file versions as its replicas compute them.</summary>
    public KubernetesSigningKey InstallKeys(ParseResult parse, IKubernetes client, TimeProvider time) =>
        new(client, parse.GetValue(InjectorNamespace)!, Hosting.ReleaseNames.For(parse.GetValue(Release)!).SigningKey, KubernetesTimings.Default, time, readOnly: true);

    /// <summary>The value of <c>--ref</c>: a ref, a path, a prefix ending in '/', or a glob.</summary>
    public static RefPattern Pattern(ParseResult parse, Option<string> reference) =>
        RefPattern.Parse(parse.GetValue(reference)) is { IsOk: true } pattern ? pattern.Value! : throw new ConfigException($"--ref {RefPattern.Parse(parse.GetValue(reference)).Error}");

    /// <summary>The value of <c>--wait</c>: null when not given.</summary>
    public static TimeSpan? Wait(ParseResult parse, Option<string?> wait) =>
        parse.GetValue(wait) is not { } text ? null
            : DurationParser.TryParse(text, out var span) && span > TimeSpan.Zero ? span : throw new ConfigException($"--wait \"{text}\": expected a duration such as 30s or 10m");
}
