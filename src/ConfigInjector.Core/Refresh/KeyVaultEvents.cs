using System.Text.Json;
using ConfigInjector.Core.Report;

namespace ConfigInjector.Core.Refresh;

/// <summary>
/// <c>Microsoft.KeyVault.SecretNewVersionCreated</c> as Key Vault publishes it to Event Grid
/// (https://learn.microsoft.com/azure/event-grid/event-schema-key-vault): <c>data</c> holds <c>Id</c>
/// (<c>https://&lt;vault&gt;.vault.azure.net/secrets/&lt;name&gt;/&lt;version&gt;</c>), <c>VaultName</c> and <c>ObjectName</c>,
/// the same in the Event Grid and the CloudEvents schema. The secret name is the ref's path (as the azure backend reads it).
/// </summary>
public static class KeyVaultEvents
{
    public const string SecretNewVersionCreated = "Microsoft.KeyVault.SecretNewVersionCreated";

    /// <summary>
    /// A pattern per backend that reads the event's vault (matched by the host of <c>Id</c>, or by <c>VaultName</c> as the
    /// first label of the backend's host, for a vault reached through a private endpoint); none when no backend reads it.
    /// </summary>
    public static Result<IReadOnlyList<RefPattern>> Patterns(JsonElement data, IReadOnlyList<KeyVaultTarget> vaults)
    {
        if (data.ValueKind != JsonValueKind.Object)
            return Result.Fail<IReadOnlyList<RefPattern>>("data is not a JSON object");
        var name = JsonFields.String(data, "ObjectName");
        if (name is null || name.Length is 0 or > 127 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            return Result.Fail<IReadOnlyList<RefPattern>>($"data.ObjectName {Describe(name)} is not a Key Vault secret name (1 to 127 letters, digits and '-')");
        var vaultName = JsonFields.String(data, "VaultName");
        string? host = null;
        if (JsonFields.String(data, "Id") is { } id)
        {
            if (!Uri.TryCreate(id, UriKind.Absolute, out var uri) || uri.Scheme != "https"
                || uri.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries) is not ["secrets", var idName, ..] || !string.Equals(idName, name, StringComparison.OrdinalIgnoreCase))
                return Result.Fail<IReadOnlyList<RefPattern>>($"data.Id {Describe(id)} is not the URL of the secret data.ObjectName names");
            host = uri.Host;
        }
        if (host is null && vaultName is null)
            return Result.Fail<IReadOnlyList<RefPattern>>("data has neither Id nor VaultName: which vault changed is unknown");
        IReadOnlyList<RefPattern> patterns = [.. vaults
            .Where(v => string.Equals(v.Host, host, StringComparison.OrdinalIgnoreCase)
                || (vaultName is not null && string.Equals(v.Host.Split('.')[0], vaultName, StringComparison.OrdinalIgnoreCase)))
            .Select(v => new RefPattern(v.Backend, name, null))];
        return Result.Ok(patterns);
    }

    private static string Describe(string? text) => text is null ? "(missing)" : $"\"{Text.Quote.Short(text, 100)}\"";
}
