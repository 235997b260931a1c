using System.Text;
using ConfigInjector.ManagedSecrets;
using k8s.Models;
using Microsoft.Extensions.Logging.Testing;

namespace ConfigInjector.Tests.ManagedSecrets;

/// <summary>The embedded default's store: pods of one workload share a Secret, so only a change is written and logged.</summary>
public class InProcessManagedSecretStoreTests
{
    private static V1Secret Secret(string value, string version) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = "configinjector-web-0123456789",
            NamespaceProperty = "shop",
            Annotations = new Dictionary<string, string> { ["configinjector.io/sources"] = $"{{\"DB_PASSWORD\":{{\"version\":\"{version}\"}}}}" },
        },
        Data = new Dictionary<string, byte[]> { ["DB_PASSWORD"] = Encoding.UTF8.GetBytes(value) },
    };

    [Fact]
    public async Task The_same_secret_applied_again_is_neither_written_nor_logged_a_changed_one_is()
    {
        var logs = new FakeLogger<InProcessManagedSecretStore>();
        var store = new InProcessManagedSecretStore(logs);
        var first = Secret("pw-1", "1");

        await store.ApplyAsync(first, CancellationToken.None);
        await store.ApplyAsync(Secret("pw-1", "1"), CancellationToken.None);
        Assert.Same(first, store.Find("shop", first.Metadata.Name));

        await store.ApplyAsync(Secret("pw-2", "2"), CancellationToken.None);
        await store.ApplyAsync(Secret("pw-2", "3"), CancellationToken.None);      // a new version with the same value is a change too

        Assert.Equal(["created", "updated", "updated"], logs.Collector.GetSnapshot().Select(r => r.Message.Split(' ')[3]));
        Assert.Equal("pw-2", Encoding.UTF8.GetString(store.Find("shop", first.Metadata.Name)!.Data["DB_PASSWORD"]));
    }
}
