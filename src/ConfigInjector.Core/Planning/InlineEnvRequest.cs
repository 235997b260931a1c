using ConfigInjector.Core.References;

namespace ConfigInjector.Core.Planning;

/// <summary>An env var in a container whose value is <c>configinjector:&lt;ref&gt;</c>.</summary>
public sealed record InlineEnvRequest(TargetContainer Container, int EnvIndex, string Name, SecretReference Ref);
