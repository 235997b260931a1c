using k8s.Models;

namespace ConfigInjector.Core.Planning;

/// <summary>One env var to add to (or replace in) a container.</summary>
public sealed record EnvChange(TargetContainer Container, V1EnvVar Var, int? ReplaceIndex);
