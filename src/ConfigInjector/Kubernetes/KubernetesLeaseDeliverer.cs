using ConfigInjector.Core.Planning;
using ConfigInjector.ManagedSecrets;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace ConfigInjector.Kubernetes;

/// <summary>
/// Delivery through the API server: the Secret read, then its record (<see cref="LeaseDelivery"/>), then the Secret
/// replaced at the resourceVersion read; a conflict starts over from a fresh read.
/// </summary>
internal sealed partial class KubernetesLeaseDeliverer(IKubernetes client, ILeaseRecords records, ISigningKey signingKey, TimeProvider time, ILogger<KubernetesLeaseDeliverer> log) : ILeaseDeliverer
{
    private const int Attempts = 3;

    public async Task<IReadOnlyList<string>> DeliverAsync(string @namespace, string secretName, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                V1Secret secret;
                try
                {
                    secret = await client.CoreV1.ReadNamespacedSecretAsync(secretName, @namespace, cancellationToken: cancellationToken);
                }
                catch (HttpOperationException e) when (KubernetesErrors.IsNotFound(e))
                {
                    return [];
                }
                var keys = await signingKey.GetAsync(cancellationToken);
                if (!ManagedSecretFactory.IsManaged(secret) || !ManagedSecretFactory.IsAuthentic(secret, keys) && !ManagedSecretFactory.IsAuthentic(secret, keys = await signingKey.RefreshAsync(cancellationToken)))
                    return [];
                if (await records.FindAsync(@namespace, secretName, cancellationToken) is not { } record)
                    return [];
                var changes = LeaseDelivery.Apply(secret, record, time.GetUtcNow(), keys);
                if (changes.Count == 0)
                    return [];
                await client.CoreV1.ReplaceNamespacedSecretAsync(secret, secretName, @namespace, cancellationToken: cancellationToken);
                LogDelivered(log, @namespace, secretName, string.Join(", ", changes));
                return changes;
            }
            catch (HttpOperationException e) when (KubernetesErrors.IsConflict(e) && attempt < Attempts)
            {
                // Written since our read (the lease keeper, another replica): read both again.
            }
            catch (Exception e) when (e is HttpOperationException or HttpRequestException or IOException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                throw new ManagedSecretException(KubernetesErrors.Describe(e, "update", "secrets", @namespace));
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "managed Secret {Namespace}/{Name}: new dynamic credentials written at admission: {Changes}")]
    private static partial void LogDelivered(ILogger logger, string @namespace, string name, string changes);
}
