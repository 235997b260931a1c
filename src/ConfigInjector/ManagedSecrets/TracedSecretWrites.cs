using ConfigInjector.Observability;
using k8s.Models;

namespace ConfigInjector.ManagedSecrets;

/// <summary>A managed-Secret write as a span: the Secret's namespace, name and key count, never its data.</summary>
internal static class TracedSecretWrites
{
    public static Task ApplyTracedAsync(this IManagedSecretStore store, V1Secret secret, CancellationToken cancellationToken) =>
        Tracing.Source.HasListeners() ? ApplyInSpanAsync(store, secret, cancellationToken) : store.ApplyAsync(secret, cancellationToken);

    private static async Task ApplyInSpanAsync(IManagedSecretStore store, V1Secret secret, CancellationToken cancellationToken)
    {
        using var span = Tracing.Source.StartActivity(Tracing.SecretWrite);
        span?.SetTag(Tracing.Namespace, secret.Metadata?.NamespaceProperty);
        span?.SetTag(Tracing.SecretName, secret.Metadata?.Name);
        span?.SetTag(Tracing.Count, secret.Data?.Count ?? 0);
        try
        {
            await store.ApplyAsync(secret, cancellationToken);
            span?.SetTag(Tracing.Result, "applied");
        }
        catch (ManagedSecretException e) when (Tracing.Fail(span, e.Message))
        {
            throw; // never reached: Fail records the reason and lets the exception go on to the caller
        }
    }
}
