using System.Text.Json;

namespace ConfigInjector.Core.Refresh;

/// <summary>Fields of event JSON, read without a schema: senders differ in the case of names (Key Vault writes <c>VaultName</c>, SDKs <c>vaultName</c>).</summary>
internal static class JsonFields
{
    public static JsonElement? Get(JsonElement element, string name)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
                return property.Value;
        }
        return null;
    }

    /// <summary>The field's string; null when absent, JSON null or not a string.</summary>
    public static string? String(JsonElement element, string name) =>
        Get(element, name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;
}
