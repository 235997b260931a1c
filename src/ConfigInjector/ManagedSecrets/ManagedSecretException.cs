namespace ConfigInjector.ManagedSecrets;

/// <summary>A managed Secret could not be written; the message is one line and names no value.</summary>
internal sealed class ManagedSecretException(string message) : Exception(message);
