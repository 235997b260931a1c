using System.Text;
using ConfigInjector.Core.Refresh;
using ConfigInjector.TestSupport;

namespace ConfigInjector.Core.Tests.Refresh;

/// <summary>The body forms of <c>POST /refresh</c>, read by the pure core: what each becomes, and the one-line reason a bad one gets.</summary>
public class RefreshRequestReaderTests
{
    private static readonly KeyVaultTarget[] Vaults = [new("kv-prod", "kv-prod.vault.azure.net"), new("kv-private", "kv-shop.privatelink.vaultcore.azure.net")];

    private static RefreshRequest Read(string body)
    {
        var read = RefreshRequestReader.Read(Encoding.UTF8.GetBytes(body), Vaults);
        Assert.True(read.IsOk, read.Error);
        return read.Value!;
    }

    private static string Error(string body)
    {
        var read = RefreshRequestReader.Read(Encoding.UTF8.GetBytes(body), Vaults);
        Assert.False(read.IsOk);
        return read.Error!;
    }

    private static (string Form, string[] Patterns, int Ignored) Refs(string body) =>
        Read(body) is RefsToRefresh r ? (r.Form, [.. r.Patterns.Select(p => p.ToString())], r.IgnoredEvents) : throw new Xunit.Sdk.XunitException("not refs");

    [Fact]
    public void A_refs_body_gives_its_patterns_once_each_as_report_reads_them()
    {
        var (form, patterns, _) = Refs("""{"refs": ["vault-prod:secret/shop/db#password", "vault-prod:secret/shop/", "vault-prod:secret/shop/db#password"]}""");

        Assert.Equal("refs", form);
        Assert.Equal(["vault-prod:secret/shop/db#password", "vault-prod:secret/shop/**"], patterns);
    }

    [Fact]
    public void The_event_grid_validation_event_is_a_handshake_with_its_code()
    {
        Assert.Equal(new ValidationHandshake(EventDeliveries.ValidationCode), Read(EventDeliveries.SubscriptionValidation));
    }

    [Fact]
    public void A_key_vault_new_version_event_names_the_secret_of_the_backend_whose_vault_it_is_and_other_events_are_ignored()
    {
        var body = $"[{EventDeliveries.KeyVaultEvent("kv-prod", "db-password")}, {EventDeliveries.KeyVaultEvent("kv-prod", "db-password", "Microsoft.KeyVault.SecretNearExpiry")}, {EventDeliveries.KeyVaultEvent("kv-elsewhere", "api-key")}]";

        var (form, patterns, ignored) = Refs(body);

        Assert.Equal("event-grid", form);
        Assert.Equal(["kv-prod:db-password"], patterns);
        Assert.Equal(2, ignored);
    }

    [Fact]
    public void A_vault_behind_a_private_endpoint_is_matched_by_its_vault_name()
    {
        var (_, patterns, _) = Refs($"[{EventDeliveries.KeyVaultEvent("kv-shop", "api-key")}]");

        Assert.Equal(["kv-private:api-key"], patterns);
    }

    [Fact]
    public void Cloud_events_from_event_grid_and_from_a_pipeline_name_their_refs()
    {
        var keyVault = Refs(EventDeliveries.KeyVaultCloudEvent("kv-prod", "db-password"));
        var pipeline = Refs(EventDeliveries.RefsCloudEvent("vault-prod:secret/shop/db"));

        Assert.Equal(("cloudevents", "kv-prod:db-password"), (keyVault.Form, Assert.Single(keyVault.Patterns)));
        Assert.Equal(("cloudevents", "vault-prod:secret/shop/db"), (pipeline.Form, Assert.Single(pipeline.Patterns)));
        Assert.Equal(["kv-prod:db-password", "vault-prod:secret/shop/db"],
            Refs($"[{EventDeliveries.KeyVaultCloudEvent("kv-prod", "db-password")}, {EventDeliveries.RefsCloudEvent("vault-prod:secret/shop/db")}]").Patterns);
    }

    [Theory]
    [InlineData("not json", "the body is not JSON: ")]
    [InlineData("42", "the body is a JSON number; expected")]
    [InlineData("[]", "the body is an empty array;")]
    [InlineData("""{"refs": []}""", "refs is not a non-empty array of ref patterns")]
    [InlineData("""{"refs": "vault-prod:x"}""", "refs is not a non-empty array of ref patterns")]
    [InlineData("""{"refs": ["vault-prod:a/../b"]}""", "refs[0]: \"vault-prod:a/../b\": the path has an empty, '.' or '..' segment")]
    [InlineData("""{"refs": [7]}""", "refs[0]: not a string")]
    [InlineData("""{"refs": ["dev:a"], "force": true}""", "unknown field \"force\";")]
    [InlineData("""{"ref": ["dev:a"]}""", "unknown field \"ref\";")]
    [InlineData("""[{"eventType": "x"}]""", "event 0: no id or eventType; not an Event Grid event")]
    [InlineData("""[1]""", "event 0: not a JSON object;")]
    [InlineData("""[{"id": "1", "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent", "data": {}}]""", "event 0: a subscription validation event without data.validationCode")]
    [InlineData("""{"specversion": "0.3", "id": "1", "source": "s", "type": "t"}""", "the CloudEvent: specversion is not \"1.0\"")]
    [InlineData("""{"specversion": "1.0", "id": "1", "type": "t"}""", "the CloudEvent: no id, source or type")]
    [InlineData("""[{"id": "1", "eventType": "Microsoft.KeyVault.SecretNewVersionCreated", "data": {"ObjectName": "a/b", "VaultName": "kv-prod"}}]""", "event 0 (Microsoft.KeyVault.SecretNewVersionCreated): data.ObjectName \"a/b\" is not a Key Vault secret name")]
    [InlineData("""[{"id": "1", "eventType": "Microsoft.KeyVault.SecretNewVersionCreated", "data": {"ObjectName": "db", "Id": "https://kv-prod.vault.azure.net/secrets/other/1"}}]""", "data.Id \"https://kv-prod.vault.azure.net/secrets/other/1\" is not the URL of the secret data.ObjectName names")]
    [InlineData("""[{"id": "1", "eventType": "Microsoft.KeyVault.SecretNewVersionCreated", "data": {"ObjectName": "db"}}]""", "data has neither Id nor VaultName")]
    [InlineData("""[{"id": "1", "eventType": "Microsoft.KeyVault.SecretNewVersionCreated", "data": "db"}]""", "data is not a JSON object")]
    public void A_bad_body_gets_one_line_saying_what_is_wrong(string body, string expected)
    {
        var error = Error(body);

        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error);
    }

    [Fact]
    public void Bodies_past_the_bounds_are_refused_by_count_and_by_depth()
    {
        Assert.Contains("1001 patterns; at most 1000", Error($$"""{"refs": [{{string.Join(',', Enumerable.Range(0, 1001).Select(i => $"\"dev:a{i}\""))}}]}"""), StringComparison.Ordinal);
        Assert.Contains("5001 events; at most 5000", Error($"[{string.Join(',', Enumerable.Repeat("{}", 5001))}]"), StringComparison.Ordinal);
        Assert.StartsWith("the body is not JSON: ", Error(new string('[', 100) + new string(']', 100)), StringComparison.Ordinal);
    }
}
