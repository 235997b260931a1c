using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Planning;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;
using k8s.Models;

namespace ConfigInjector.Core.Tests.Planning;

/// <summary>Runs the pure planning steps with backends replaced by a dictionary of reads.</summary>
internal sealed class PurePipeline
{
    public static readonly SecretPolicy AllowAllInDefault = new(
        "allow-all", new PolicySubjects(["default"], null), [new PolicyRule("dev", ["**"], null), new PolicyRule("config", ["**"], null)],
        RotationSettings.Default, BackendErrorMode.Deny);

    public Dictionary<string, SecretDocument> Documents { get; } = new()
    {
        ["app/db"] = new SecretDocument("3", new Dictionary<string, string> { ["user"] = "app-user", ["password"] = "s3cret-pw" }),
        ["app/single"] = new SecretDocument("1", new Dictionary<string, string> { ["value"] = "only-value" }),
        ["app/settings"] = new SecretDocument("9", new Dictionary<string, string> { ["LOG_LEVEL"] = "debug", ["bad-name"] = "x" }),
    };

    public Dictionary<string, SecretRead> Failures { get; } = [];

    public List<SecretPolicy> Policies { get; } = [AllowAllInDefault];

    public List<ConfigProfile> Profiles { get; } = [];

    /// <summary>The admission's deadline, as the webhook hands it to the completing step.</summary>
    public CancellationToken Deadline { get; set; }

    public Dictionary<string, BackendInfo> Backends { get; } = new()
    {
        ["dev"] = new BackendInfo("dev", Sensitive: true),
        ["config"] = new BackendInfo("config", Sensitive: false),
    };

    public (StepOutcome<InjectionPlan>? Plan, StepOutcome<PreparedInjection> Prepared, AnnotationParseResult Parsed) Run(V1Pod pod, string ns = "default")
    {
        var parsed = AnnotationParser.Parse(pod.Metadata.Annotations?.AsReadOnly());
        var prepared = InjectionPreparer.Prepare(pod, ns, parsed.Request, Policies, Backends, Profiles);
        if (prepared.Value is null)
            return (null, prepared, parsed);
        var reads = prepared.Value.Locations.ToDictionary(l => l, Read);
        return (InjectionCompleter.Complete(pod, prepared.Value, reads, Deadline), prepared, parsed);
    }

    public InjectionPlan Plan(V1Pod pod)
    {
        var (plan, prepared, parsed) = Run(pod);
        Assert.Empty(parsed.Errors);
        Assert.Empty(prepared.Errors);
        Assert.NotNull(plan);
        Assert.Empty(plan.Errors);
        return plan.Value!;
    }

    public IReadOnlyList<string> Errors(V1Pod pod, string ns = "default")
    {
        var (plan, prepared, parsed) = Run(pod, ns);
        return [.. parsed.Errors, .. prepared.Errors, .. plan?.Errors ?? []];
    }

    private SecretRead Read(SecretLocation location)
    {
        if (Failures.TryGetValue(location.Path, out var failure))
            return failure with { Location = location };
        if (!Documents.TryGetValue(location.Path, out var document))
            return SecretRead.NotFound(location, $"no path \"{location.Path}\"");
        if (location.Version is not null && location.Version != document.Version)
            return SecretRead.NotFound(location, $"no version {location.Version}");
        return SecretRead.Found(location, document);
    }
}
