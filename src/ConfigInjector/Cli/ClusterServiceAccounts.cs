using System.CommandLine;
using ConfigInjector.Backends.PodIdentity;
using ConfigInjector.Configuration;
using ConfigInjector.Core.Policies;
using ConfigInjector.Kubernetes;

namespace ConfigInjector.Cli;

/// <summary>
/// How a verb run from a terminal reads as a service account (<c>identity: pod</c> backends): <c>--kubeconfig</c> and
/// <c>--context</c> name the cluster, whose API server issues the service account's token to the caller's own
/// credentials (they need <c>create</c> on <c>serviceaccounts/token</c>). The cluster is reached only when a read
/// needs it, so the verbs stay offline for every other backend.
/// </summary>
internal sealed class ClusterServiceAccounts
{
    public Option<string?> Kubeconfig { get; } = new("--kubeconfig") { Description = "kubeconfig for reading as a service account (identity: pod; default: KUBECONFIG, then ~/.kube/config)" };

    public Option<string?> Context { get; } = new("--context") { Description = "the kubeconfig context to use (default: its current-context)" };

    public void AddTo(Command command)
    {
        command.Options.Add(Kubeconfig);
        command.Options.Add(Context);
    }

    public IServiceAccounts For(ParseResult parse) => new ConnectingServiceAccounts(parse.GetValue(Kubeconfig), parse.GetValue(Context));

    /// <summary><c>--as NAMESPACE/SERVICEACCOUNT</c>: both parts Kubernetes names (lowercase letters, digits, '-' and '.').</summary>
    public static Subject ParseAs(string text)
    {
        var parts = text.Split('/');
        if (parts.Length != 2 || !parts.All(IsName))
            throw new ConfigException($"--as \"{text}\": expected NAMESPACE/SERVICEACCOUNT, e.g. shop/checkout");
        return new Subject(parts[0], parts[1]);
    }

    private static bool IsName(string part) =>
        part.Length is > 0 and <= 253 && part.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '.')
        && char.IsAsciiLetterOrDigit(part[0]) && char.IsAsciiLetterOrDigit(part[^1]);
}
