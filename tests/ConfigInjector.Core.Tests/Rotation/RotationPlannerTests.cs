using ConfigInjector.Core.Planning;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Rotation;
using ConfigInjector.Core.Secrets;

namespace ConfigInjector.Core.Tests.Rotation;

public class RotationPlannerTests
{
    private static readonly SecretLocation Db = new("vault", "secret/db", null);
    private static readonly SecretLocation Tls = new("vault", "secret/tls", null);

    private static readonly Dictionary<string, KeySource> Sources = new()
    {
        ["DB_PASSWORD"] = new KeySource("vault:secret/db#password", "3"),
        ["file.ca.crt"] = new KeySource("vault:secret/tls#ca", "1"),
    };

    private static readonly Dictionary<string, string> Current = new() { ["DB_PASSWORD"] = "old-pw", ["file.ca.crt"] = "old-ca" };

    private static SecretRead Found(SecretLocation location, string version, string key, string value) =>
        SecretRead.Found(location, new SecretDocument(version, new Dictionary<string, string> { [key] = value }));

    [Fact]
    public void Nothing_changes_when_values_and_versions_are_the_same()
    {
        var outcome = RotationPlanner.Plan(Current, Sources, new Dictionary<SecretLocation, SecretRead>
        {
            [Db] = Found(Db, "3", "password", "old-pw"),
            [Tls] = Found(Tls, "1", "ca", "old-ca"),
        });

        Assert.False(outcome.Changed);
        Assert.Empty(outcome.Failures);
    }

    [Fact]
    public void A_new_env_value_is_an_env_change_with_its_new_version()
    {
        var outcome = RotationPlanner.Plan(Current, Sources, new Dictionary<SecretLocation, SecretRead>
        {
            [Db] = Found(Db, "4", "password", "new-pw"),
            [Tls] = Found(Tls, "1", "ca", "old-ca"),
        });

        Assert.Equal(["DB_PASSWORD"], outcome.ChangedKeys);
        Assert.True(outcome.EnvChanged);
        Assert.Equal("new-pw", outcome.Data["DB_PASSWORD"]);
        Assert.Equal(new KeySource("vault:secret/db#password", "4"), outcome.Sources["DB_PASSWORD"]);
    }

    [Fact]
    public void A_new_version_with_the_same_value_is_recorded_but_restarts_nothing()
    {
        var outcome = RotationPlanner.Plan(Current, Sources, new Dictionary<SecretLocation, SecretRead>
        {
            [Db] = Found(Db, "4", "password", "old-pw"),
            [Tls] = Found(Tls, "1", "ca", "old-ca"),
        });

        Assert.True(outcome.Changed);
        Assert.False(outcome.EnvChanged);
        Assert.Empty(outcome.ChangedKeys);
        Assert.Equal(["DB_PASSWORD"], outcome.NewVersionOnlyKeys);
        Assert.Equal("4", outcome.Sources["DB_PASSWORD"].Version);
    }

    [Fact]
    public void A_file_only_change_is_not_an_env_change()
    {
        var outcome = RotationPlanner.Plan(Current, Sources, new Dictionary<SecretLocation, SecretRead>
        {
            [Db] = Found(Db, "3", "password", "old-pw"),
            [Tls] = Found(Tls, "2", "ca", "new-ca"),
        });

        Assert.Equal(["file.ca.crt"], outcome.ChangedKeys);
        Assert.False(outcome.EnvChanged);
    }

    [Fact]
    public void A_failing_or_missing_ref_keeps_the_last_value()
    {
        var outcome = RotationPlanner.Plan(Current, Sources, new Dictionary<SecretLocation, SecretRead>
        {
            [Db] = SecretRead.Failed(Db, "vault HTTP 503: Vault is sealed"),
            [Tls] = Found(Tls, "2", "other", "x"),
        });

        Assert.False(outcome.Changed);
        Assert.Equal(Current, outcome.Data);
        Assert.Equal(["vault:secret/db#password: backend error: vault HTTP 503: Vault is sealed", "vault:secret/tls#ca: the key is no longer at that path"], outcome.Failures);
    }

    [Fact]
    public void Locations_are_unique_per_path()
    {
        var sources = new Dictionary<string, KeySource>
        {
            ["A"] = new("vault:secret/db#user", "1"),
            ["B"] = new("vault:secret/db#password", "1"),
            ["C"] = new("vault:secret/db#password@1", "1"),
        };

        Assert.Equal([Db, Db with { Version = "1" }], RotationPlanner.Locations(sources));
    }
}
