using k8s.Models;

namespace ConfigInjector.Core.Planning;

public enum ContainerKind { Regular, Init }

/// <summary>A container of the pod with its place in the spec.</summary>
public sealed record TargetContainer(ContainerKind Kind, int Index, V1Container Container)
{
    public string Pointer => Kind == ContainerKind.Regular ? $"/spec/containers/{Index}" : $"/spec/initContainers/{Index}";

    public string Name => Container.Name;
}
