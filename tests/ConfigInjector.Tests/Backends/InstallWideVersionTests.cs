using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using ConfigInjector.Backends;
using ConfigInjector.Configuration;
using ConfigInjector.Core.References;
using ConfigInjector.Kubernetes;
using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Fakes;
using k8s;
using Microsoft.Extensions.Logging.Abstractions;

namespace ConfigInjector.Tests.Backends;

/// <summary>
/// Versions of backends that keep none (Vault KV v1, the file backend) are the same from every process of one install
/// (each replica, the leader, the CLI: here each a signing-key reader and backends of its own over the same fake API
/// server, Vault and file), change with the value, and cannot be computed without the install's key.
/// </summary>
public sealed class InstallWideVersionTests : IAsyncLifetime
{
    private const string InjectorNamespace = "config-injector";
    private KubeApiFake _api = null!;
    private VaultFake _vault = null!;
    private string _folder = null!;

    public async Task InitializeAsync()
    {
        _api = await KubeApiFake.StartAsync();
        _vault = await VaultFake.StartAsync();
        _vault.EnableKv("kv", 1);
        _folder = ScratchDirectory.Create();
        File.WriteAllText(Path.Combine(_folder, "token"), VaultFake.RootToken);
    }

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        await _vault.DisposeAsync();
    }

    /// <summary>One process of the install: its own client, signing-key reader and backends; the file as its node sees it.</summary>
    private IReadOnlyDictionary<string, ISecretBackend> Process(string secretsFile, KubeApiFake? api = null)
    {
        var client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = (api ?? _api).Address.ToString() });
        var keys = new KubernetesSigningKey(client, InjectorNamespace, ConfigInjector.Hosting.ReleaseNames.Default.SigningKey, KubernetesTimings.Default, TimeProvider.System);
        var yaml = VaultWebhook.BackendConfig(_vault, Path.Combine(_folder, "token"), "vault-v1", "kvVersion: \"1\"")
            + $"  - name: dev\n    type: file\n    path: {secretsFile}\n";
        return BackendRegistry.Default.CreateAll(ConfigFileReader.Parse(yaml, "injector.yaml", _folder), new BackendContext(TimeProvider.System, NullLoggerFactory.Instance, keys));
    }

    /// <summary>The same content in a file of its own, with its own modification time, as on another node.</summary>
    private string SecretsFile(string name, string password, DateTime modified)
    {
        var file = Path.Combine(_folder, name);
        File.WriteAllText(file, $"app/db:\n  password: {password}\n");
        File.SetLastWriteTimeUtc(file, modified);
        return file;
    }

    private static async Task<string> VersionAsync(IReadOnlyDictionary<string, ISecretBackend> process, string backend, string path)
    {
        var read = await process[backend].ReadAsync(new SecretLocation(backend, path, null), CancellationToken.None);
        return read.Document?.Version ?? throw new InvalidOperationException($"{backend}:{path}: {read.Status} {read.Reason}");
    }

    private static IEnumerable<string> UnkeyedHashes(string value)
    {
        foreach (var text in new[] { value, "password=" + value, $"8:password{value.Length}:{value}", $"8:password{value.Length}:{value}\n" })
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            yield return Convert.ToHexStringLower(SHA256.HashData(bytes));
            yield return Convert.ToHexStringLower(SHA512.HashData(bytes));
        }
    }

    [Fact]
    public async Task Two_processes_agree_on_kv_v1_and_file_versions_which_change_with_the_value_and_need_the_installs_key()
    {
        _vault.Put("kv/app/db", new Dictionary<string, string> { ["password"] = "one" });
        var replica = Process(SecretsFile("node-a.yaml", "one", new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc)));
        var leader = Process(SecretsFile("node-b.yaml", "one", new DateTime(2026, 3, 7, 12, 0, 0, DateTimeKind.Utc)));

        var vaultVersion = await VersionAsync(replica, "vault-v1", "kv/app/db");
        var fileVersion = await VersionAsync(replica, "dev", "app/db");
        Assert.Equal(vaultVersion, await VersionAsync(leader, "vault-v1", "kv/app/db"));
        Assert.Equal(fileVersion, await VersionAsync(leader, "dev", "app/db"));
        // The same document under either backend: the version is the content's, not the file's time or the backend's.
        Assert.Equal(vaultVersion, fileVersion);

        _vault.Put("kv/app/db", new Dictionary<string, string> { ["password"] = "two" });
        var changed = await VersionAsync(Process(SecretsFile("node-c.yaml", "two", DateTime.UtcNow)), "vault-v1", "kv/app/db");
        Assert.NotEqual(vaultVersion, changed);
        Assert.Equal(changed, await VersionAsync(leader, "vault-v1", "kv/app/db"));

        // No unkeyed hash of the value: another install (its own signing-key Secret) gets another version for it.
        foreach (var hash in UnkeyedHashes("two"))
            Assert.DoesNotContain(changed[1..], hash, StringComparison.Ordinal);
        await using var otherCluster = await KubeApiFake.StartAsync();
        Assert.NotEqual(changed, await VersionAsync(Process(SecretsFile("other.yaml", "two", DateTime.UtcNow), otherCluster), "dev", "app/db"));
    }

    [Fact]
    public async Task An_install_from_before_versions_were_keyed_gets_one_seed_and_a_signing_key_rotation_keeps_versions()
    {
        var oldKey = RandomNumberGenerator.GetBytes(32);
        _api.Put("secrets", new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Secret",
            ["metadata"] = new JsonObject { ["name"] = ConfigInjector.Hosting.ReleaseNames.Default.SigningKey, ["namespace"] = InjectorNamespace },
            ["data"] = new JsonObject { [KubernetesSigningKey.CurrentKey] = Convert.ToBase64String(oldKey) },
        });
        var file = SecretsFile("secrets.yaml", "one", DateTime.UtcNow);
        var versions = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => VersionAsync(Process(file), "dev", "app/db")));
        Assert.Single(versions.Distinct());

        // The README's rotation: a new key, the old one as previous. Versions do not move with it.
        _api.Update("secrets", InjectorNamespace, ConfigInjector.Hosting.ReleaseNames.Default.SigningKey, s =>
        {
            s["data"]![KubernetesSigningKey.PreviousKey] = s["data"]![KubernetesSigningKey.CurrentKey]!.GetValue<string>();
            s["data"]![KubernetesSigningKey.CurrentKey] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        });
        Assert.Equal(versions[0], await VersionAsync(Process(file), "dev", "app/db"));
        Assert.Equal(Convert.ToBase64String(oldKey), _api.Get("secrets", InjectorNamespace, ConfigInjector.Hosting.ReleaseNames.Default.SigningKey)!["data"]![KubernetesSigningKey.PreviousKey]!.GetValue<string>());
    }
}
