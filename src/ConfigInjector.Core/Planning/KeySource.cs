namespace ConfigInjector.Core.Planning;

/// <summary>Where one data key of a managed Secret came from: the ref as the pod wrote it, and the version used.</summary>
public sealed record KeySource(string Ref, string Version);
