namespace ConfigInjector.Core.Planning;

/// <summary>What the admission knows about the configured backends, without talking to them.</summary>
public sealed record BackendInfo(string Name, bool Sensitive);
