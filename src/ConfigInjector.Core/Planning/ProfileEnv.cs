namespace ConfigInjector.Core.Planning;

/// <summary>A literal env var from a ConfigProfile's <c>env</c>: the lowest precedence of all.</summary>
public sealed record ProfileEnv(string Name, string Value, string Profile);
