namespace ConfigInjector.TestSupport;

/// <summary>
/// Deliveries as their senders document them: Event Grid's schema (https://learn.microsoft.com/azure/event-grid/event-schema),
/// its validation event (https://learn.microsoft.com/azure/event-grid/webhook-event-delivery), Key Vault's event data
/// (https://learn.microsoft.com/azure/event-grid/event-schema-key-vault) and CloudEvents 1.0 structured JSON.
/// </summary>
public static class EventDeliveries
{
    public const string ValidationCode = "512d38b6-c7b8-40c8-89fe-f46f9e9622b6";

    public static readonly string SubscriptionValidation = $$"""
        [{
          "id": "2d1781af-3a4c-4d7c-bd0c-e34b19da4e66",
          "topic": "/subscriptions/00000000-0000-0000-0000-000000000000",
          "subject": "",
          "data": {
            "validationCode": "{{ValidationCode}}",
            "validationUrl": "https://rp-eastus2.eventgrid.azure.net:553/eventsubscriptions/estest/validate?id=512d38b6-c7b8-40c8-89fe-f46f9e9622b6&t=2018-04-26T20:30:54.4538837Z&apiVersion=2018-05-01-preview&token=1A1A1A1A"
          },
          "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
          "eventTime": "2018-01-25T22:12:19.4556811Z",
          "metadataVersion": "1",
          "dataVersion": "1"
        }]
        """;

    public static string KeyVaultData(string vault, string secret) => $$"""
        {
          "Id": "https://{{vault}}.vault.azure.net/secrets/{{secret}}/ee059b2bb5bc48398a53b168c6cdcb10",
          "VaultName": "{{vault}}",
          "ObjectType": "Secret",
          "ObjectName": "{{secret}}",
          "Version": "ee059b2bb5bc48398a53b168c6cdcb10",
          "NBF": "1559081980",
          "EXP": "1559082102"
        }
        """;

    public static string KeyVaultEvent(string vault, string secret, string type = "Microsoft.KeyVault.SecretNewVersionCreated") => $$"""
        {
          "id": "00eccf70-95a7-4e7c-8299-2eb17ee9ad64",
          "topic": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/sample-rg/providers/Microsoft.KeyVault/vaults/{{vault}}",
          "subject": "{{secret}}",
          "eventType": "{{type}}",
          "data": {{KeyVaultData(vault, secret)}},
          "dataVersion": "1",
          "metadataVersion": "1",
          "eventTime": "2019-07-25T01:08:33.1036736Z"
        }
        """;

    /// <summary>
    /// One Event Grid delivery (an array in the Event Grid schema) of a new version of <paramref name="secret"/> in the
    /// vault at <paramref name="vaultUri"/> (a fake's loopback address): <c>data.Id</c> is the version's URL there.
    /// </summary>
    public static string KeyVaultDeliveryAt(Uri vaultUri, string vault, string secret, string version)
    {
        var delivery = System.Text.Json.Nodes.JsonNode.Parse(KeyVaultEvent(vault, secret))!.AsObject();
        delivery["id"] = Guid.NewGuid().ToString();
        delivery["eventTime"] = DateTime.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        delivery["data"]!["Id"] = $"{vaultUri.ToString().TrimEnd('/')}/secrets/{secret}/{version}";
        delivery["data"]!["Version"] = version;
        return new System.Text.Json.Nodes.JsonArray(delivery).ToJsonString();
    }

    /// <summary>The same event as Event Grid delivers it in the CloudEvents 1.0 schema.</summary>
    public static string KeyVaultCloudEvent(string vault, string secret) => $$"""
        {
          "specversion": "1.0",
          "id": "00eccf70-95a7-4e7c-8299-2eb17ee9ad64",
          "source": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/sample-rg/providers/Microsoft.KeyVault/vaults/{{vault}}",
          "subject": "{{secret}}",
          "type": "Microsoft.KeyVault.SecretNewVersionCreated",
          "time": "2019-07-25T01:08:33.1036736Z",
          "datacontenttype": "application/json",
          "data": {{KeyVaultData(vault, secret)}}
        }
        """;

    public static string RefsCloudEvent(params string[] refs) => $$"""
        {
          "specversion": "1.0",
          "id": "build-4711",
          "source": "https://ci.example.com/pipelines/rotate-db",
          "type": "com.example.secret.rotated",
          "data": { "refs": [{{string.Join(", ", refs.Select(r => $"\"{r}\""))}}] }
        }
        """;
}
