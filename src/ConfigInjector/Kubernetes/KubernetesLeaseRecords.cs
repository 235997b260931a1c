using System.Security.Cryptography;
using System.Text;
using ConfigInjector.ManagedSecrets;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace ConfigInjector.Kubernetes;

/// <summary>
/// Lease records as Secrets in the injector's own namespace, one per managed Secret with dynamic refs, labelled
/// <see cref="Label"/> (not as managed Secrets: the worker's informer must not take them for one). Creates fail with 409
/// when another replica got there first, replaces are guarded by resourceVersion.
/// </summary>
internal sealed class KubernetesLeaseRecords(IKubernetes client, string injectorNamespace) : ILeaseRecords
{
    public const string Label = "configinjector.io/lease-record";
    private const string DataKey = "record";

    /// <summary>With a cluster, serve always runs the leader-elected sync worker, whose lease keeper renews and revokes.</summary>
    public bool Kept => true;

    public async Task<LeaseRecord?> FindAsync(string @namespace, string secretName, CancellationToken cancellationToken)
    {
        try
        {
            var secret = await client.CoreV1.ReadNamespacedSecretAsync(NameFor(@namespace, secretName), injectorNamespace, cancellationToken: cancellationToken);
            return Read(secret) is { } record && record.Namespace == @namespace && record.SecretName == secretName ? record : null;
        }
        catch (HttpOperationException e) when (KubernetesErrors.IsNotFound(e))
        {
            return null;
        }
        catch (Exception e) when (e is HttpOperationException or HttpRequestException or IOException)
        {
            throw new ManagedSecretException(KubernetesErrors.Describe(e, "get", "secrets", injectorNamespace));
        }
    }

    public async Task<bool> TrySaveAsync(LeaseRecord record, CancellationToken cancellationToken)
    {
        var secret = new V1Secret
        {
            ApiVersion = "v1",
            Kind = "Secret",
            Type = "Opaque",
            Metadata = new V1ObjectMeta
            {
                Name = NameFor(record.Namespace, record.SecretName),
                NamespaceProperty = injectorNamespace,
                Labels = new Dictionary<string, string> { [Label] = "true" },
                ResourceVersion = record.Version,
            },
            Data = new Dictionary<string, byte[]> { [DataKey] = Encoding.UTF8.GetBytes(record.ToJson()) },
        };
        try
        {
            if (record.Version is null)
                await client.CoreV1.CreateNamespacedSecretAsync(secret, injectorNamespace, cancellationToken: cancellationToken);
            else
                await client.CoreV1.ReplaceNamespacedSecretAsync(secret, secret.Metadata.Name, injectorNamespace, cancellationToken: cancellationToken);
            return true;
        }
        catch (HttpOperationException e) when (KubernetesErrors.IsConflict(e) || KubernetesErrors.IsNotFound(e))
        {
            return false;
        }
        catch (Exception e) when (e is HttpOperationException or HttpRequestException or IOException)
        {
            throw new ManagedSecretException(KubernetesErrors.Describe(e, record.Version is null ? "create" : "update", "secrets", injectorNamespace));
        }
    }

    public async Task<IReadOnlyList<LeaseRecord>> ListAsync(CancellationToken cancellationToken)
    {
        try
        {
            var list = await client.CoreV1.ListNamespacedSecretAsync(injectorNamespace, labelSelector: Label + "=true", cancellationToken: cancellationToken);
            return [.. list.Items.Select(Read).OfType<LeaseRecord>()];
        }
        catch (Exception e) when (e is HttpOperationException or HttpRequestException or IOException)
        {
            throw new ManagedSecretException(KubernetesErrors.Describe(e, "list", "secrets", injectorNamespace));
        }
    }

    public async Task DeleteAsync(LeaseRecord record, CancellationToken cancellationToken)
    {
        try
        {
            await client.CoreV1.DeleteNamespacedSecretAsync(NameFor(record.Namespace, record.SecretName), injectorNamespace,
                new V1DeleteOptions { Preconditions = new V1Preconditions { ResourceVersion = record.Version } }, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (KubernetesErrors.IsNotFound(e) || KubernetesErrors.IsConflict(e))
        {
            // Gone already, or written since: the next pass decides again.
        }
        catch (Exception e) when (e is HttpOperationException or HttpRequestException or IOException)
        {
            throw new ManagedSecretException(KubernetesErrors.Describe(e, "delete", "secrets", injectorNamespace));
        }
    }

    private static LeaseRecord? Read(V1Secret secret) =>
        secret.Data?.TryGetValue(DataKey, out var json) == true ? LeaseRecord.FromJson(Encoding.UTF8.GetString(json), secret.Metadata.ResourceVersion) : null;

    /// <summary>A name per managed Secret that fits any namespace and name: a digest, the record inside says whose it is.</summary>
    public static string NameFor(string @namespace, string secretName) =>
        "configinjector-lease-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(@namespace + "/" + secretName)).AsSpan(0, 10));
}
