using System.Text.Json;
using Azure;
using Azure.Identity;
using Azure.Security.KeyVault.Secrets;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;

namespace ConfigInjector.Backends.AzureKeyVault;

/// <summary>
/// Azure Key Vault secrets through <see cref="SecretClient"/> (Get Secret:
/// https://learn.microsoft.com/rest/api/keyvault/secrets/get-secret/get-secret). A secret holds one value, so the
/// document has the single key <c>value</c>; the ref path is the secret name and <c>@version</c> its version id.
/// With <paramref name="readsAs"/> (<c>identity: pod</c>: the service account whose client it is), Key Vault's 403 and
/// Entra refusing the exchange are the vault's answer to that identity: <see cref="ReadStatus.Refused"/>, naming it.
/// </summary>
internal sealed class KeyVaultBackend(string name, SecretClient client, KeyVaultSettings settings, TimeProvider time, string? readsAs = null) : ISecretBackend
{
    public string Name => name;

    public async ValueTask<SecretRead> ReadAsync(SecretLocation location, CancellationToken cancellationToken)
    {
        if (!location.Path.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            return SecretRead.NotFound(location, $"\"{location.Path}\" is not a Key Vault secret name (letters, digits and '-')");
        try
        {
            var secret = (await client.GetSecretAsync(location.Path, location.Version, cancellationToken)).Value;
            var properties = secret.Properties;
            var now = time.GetUtcNow();
            if (properties.Enabled == false)
                return SecretRead.NotFound(location, $"secret {location.Path} is disabled");
            if (properties.ExpiresOn is { } expires && expires <= now)
                return SecretRead.NotFound(location, $"secret {location.Path} expired at {expires:u}");
            if (properties.NotBefore is { } notBefore && notBefore > now)
                return SecretRead.NotFound(location, $"secret {location.Path} is not valid before {notBefore:u}");
            return SecretRead.Found(location, new SecretDocument(properties.Version, new Dictionary<string, string> { [SecretDocument.SingleValueKey] = secret.Value ?? "" }));
        }
        catch (RequestFailedException e)
        {
            return Refused(location, e);
        }
        catch (AuthenticationFailedException e)
        {
            return readsAs is null
                ? SecretRead.Failed(location, $"Key Vault authentication failed: {FirstLine(e.Message)}")
                : EntraAnswer.Of(location, readsAs, e);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return TimedOut(location);
        }
        catch (AggregateException e) when (!cancellationToken.IsCancellationRequested)
        {
            // The SDK's retry policy gives up with every attempt's exception; the last one says why.
            return e.InnerExceptions[^1] switch
            {
                OperationCanceledException => TimedOut(location),
                RequestFailedException failed => Refused(location, failed),
                var other => SecretRead.Failed(location, $"Key Vault {settings.VaultUri.Host}: {FirstLine(other.Message)}"),
            };
        }
    }

    private SecretRead TimedOut(SecretLocation location) =>
        SecretRead.Failed(location, $"Key Vault {settings.VaultUri.Host} did not answer within {settings.Timeout.TotalSeconds:0.###}s");

    private SecretRead Refused(SecretLocation location, RequestFailedException e)
    {
        var inner = InnerErrorCode(e);
        return (e.Status, inner) switch
        {
            (404, _) => SecretRead.NotFound(location, location.Version is null ? $"no secret named {location.Path}" : $"no version {location.Version} of {location.Path}"),
            (403, "SecretDisabled") => SecretRead.NotFound(location, $"secret {location.Path} is disabled"),
            (403, "SecretExpired") => SecretRead.NotFound(location, $"secret {location.Path} has expired"),
            (403, _) when readsAs is not null => SecretRead.Refused(location, $"Key Vault {settings.VaultUri.Host} refused {readsAs}: HTTP 403 {inner ?? e.ErrorCode}"),
            (403, _) => SecretRead.Failed(location, $"Key Vault HTTP 403 {e.ErrorCode}: the identity may not read secrets of {settings.VaultUri.Host} (grant it 'Key Vault Secrets User')"),
            (0, _) => SecretRead.Failed(location, $"cannot reach Key Vault {settings.VaultUri.Host}: {FirstLine(e.Message)}"),
            _ => SecretRead.Failed(location, $"Key Vault HTTP {e.Status} {e.ErrorCode}".TrimEnd()),
        };
    }

    // The SDK's message spans many lines (headers, body); only the service's inner error code is kept.
    private static string? InnerErrorCode(RequestFailedException e)
    {
        try
        {
            var content = e.GetRawResponse()?.Content;
            if (content is null)
                return null;
            using var body = JsonDocument.Parse(content.ToMemory());
            return body.RootElement.TryGetProperty("error", out var error) && error.TryGetProperty("innererror", out var innerError) && innerError.TryGetProperty("code", out var code)
                ? code.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    internal static string FirstLine(string text) => text.Split('\n')[0].Trim();
}
