namespace ConfigInjector.Configuration;

/// <summary>A configuration mistake, already phrased as one line: <c>file:line:column: field: what is wrong</c>.</summary>
internal sealed class ConfigException(string message) : Exception(message);
