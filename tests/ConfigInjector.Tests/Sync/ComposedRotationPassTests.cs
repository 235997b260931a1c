using System.Text;
using System.Text.Json.Nodes;
using ConfigInjector.Core.Planning;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.Templates;
using ConfigInjector.Sync;
using ConfigInjector.TestSupport.Fakes;
using k8s;

namespace ConfigInjector.Tests.Sync;

/// <summary>
/// A managed Secret with a key composed from several refs (a template): when one ref changes in Vault, the rotation
/// pass renders the key again, records the new versions, keeps the Secret verifiable, and says so in an Event that
/// names refs and versions, never values; env consumers are rolled, file consumers are not.
/// </summary>
public sealed class ComposedRotationPassTests : IAsyncLifetime
{
    private const string Template = "postgres://${vault-prod:secret/shop/db#user}:${vault-prod:secret/shop/db#password|urlencode}@db:5432/app";
    private SyncHarness _sync = null!;

    public async Task InitializeAsync()
    {
        _sync = await SyncHarness.StartAsync();
        _sync.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["user"] = "shop", ["password"] = "cluster-only-pw@v1" });
        _sync.Policies.Allow("shop", "shop", null, "secret/shop/**");
    }

    public async Task DisposeAsync() => await _sync.DisposeAsync();

    private k8s.Models.V1Secret AddComposed(string key = "DATABASE_URL", k8s.Models.V1OwnerReference? owner = null, Core.Annotations.RotationMode onChange = Core.Annotations.RotationMode.None)
    {
        var secret = ManagedSecretFactory.Create(new ManagedSecretSpec("configinjector-web-1", "shop",
            new Dictionary<string, string> { [key] = "postgres://shop:cluster-only-pw%40v1@db:5432/app" },
            new Dictionary<string, KeySource>(), new RotationSettings(TimeSpan.FromMinutes(5), onChange), owner, "default")
        {
            Composed = new Dictionary<string, ComposedSource>
            {
                [key] = ComposedSource.ForTemplate(Template, new Dictionary<string, string> { ["vault-prod:secret/shop/db#password"] = "1", ["vault-prod:secret/shop/db#user"] = "1" }),
            },
        }, SyncHarness.Key);
        var json = JsonNode.Parse(KubernetesJson.Serialize(secret))!.AsObject();
        _sync.Api.Put("secrets", json);
        return _sync.Read("shop", "configinjector-web-1");
    }

    [Theory]
    [InlineData("DATABASE_URL", 1)]
    [InlineData("file.db.url", 0)]
    public async Task A_re_rendered_env_value_rolls_its_workload_and_a_file_does_not(string key, int restarts)
    {
        var owner = new k8s.Models.V1OwnerReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = "web", Uid = "d-1", Controller = true };
        var secret = AddComposed(key, owner, Core.Annotations.RotationMode.Restart);
        _sync.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["user"] = "shop", ["password"] = "cluster-only-pw:v2" });

        await _sync.Pass().RunAsync([secret], CancellationToken.None);

        Assert.Equal("postgres://shop:cluster-only-pw%3Av2@db:5432/app", _sync.Value("shop", "configinjector-web-1", key));
        // The restart is recorded on the Secret in the same write as the value, and noted for the restarter.
        Assert.Equal(restarts == 1, _sync.RestartDue("shop", "configinjector-web-1") is not null);
        Assert.Equal(restarts, _sync.Restarts.Unresolved);
    }

    [Fact]
    public async Task A_changed_ref_re_renders_the_template_with_new_versions_and_an_event_without_values()
    {
        var secret = AddComposed();
        _sync.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["user"] = "shop", ["password"] = "cluster-only-pw:v2" });

        var result = Assert.Single(await _sync.Pass().RunAsync([secret], CancellationToken.None));

        var after = _sync.Read("shop", "configinjector-web-1");
        Assert.Equal(ReconcileStatus.Updated, result.Status);
        Assert.Equal("postgres://shop:cluster-only-pw%3Av2@db:5432/app", Encoding.UTF8.GetString(after.Data["DATABASE_URL"]));
        Assert.Equal("2", ComposedSources.Parse(after.Metadata.Annotations[ComposedSources.Annotation])!["DATABASE_URL"].Versions["vault-prod:secret/shop/db#password"]);
        Assert.Equal(SignatureCheck.Current, ManagedSecretSignature.Verify(SigningKeys.Single(SyncHarness.Key), after));
        var rotated = Assert.Single(_sync.Api.Events("Rotated"));
        Assert.Contains("DATABASE_URL <- vault-prod:secret/shop/db#password@2 + vault-prod:secret/shop/db#user@2", rotated["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain("cluster-only", rotated.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nothing_is_written_when_no_ref_changed()
    {
        var secret = AddComposed();

        var result = Assert.Single(await _sync.Pass().RunAsync([secret], CancellationToken.None));

        Assert.Equal(ReconcileStatus.Unchanged, result.Status);
        Assert.Equal(0, _sync.Api.Count("PUT secrets"));
    }

    [Fact]
    public async Task A_template_ref_the_policies_no_longer_allow_keeps_the_last_value()
    {
        var secret = AddComposed();
        _sync.Policies.Policies.Clear();
        _sync.Policies.Allow("shop-users-only", "shop", null, "secret/other/**");
        _sync.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["user"] = "shop", ["password"] = "cluster-only-pw:v2" });

        var result = Assert.Single(await _sync.Pass().RunAsync([secret], CancellationToken.None));

        Assert.Equal(ReconcileStatus.Failed, result.Status);
        Assert.Equal("postgres://shop:cluster-only-pw%40v1@db:5432/app", _sync.Value("shop", "configinjector-web-1", "DATABASE_URL"));
        Assert.Equal(0, _sync.Vault.Count("GET secret/data/shop/db"));
    }

    [Fact]
    public async Task A_formatted_file_under_a_rule_that_names_keys_is_refreshed()
    {
        _sync.Policies.Policies.Clear();
        _sync.Policies.Policies.Add(new SecretPolicy("shop-keys", new PolicySubjects(["shop"], null),
            [new PolicyRule("vault-prod", ["secret/shop/**"], ["user", "password"])], new RotationSettings(TimeSpan.FromMinutes(5), Core.Annotations.RotationMode.None), BackendErrorMode.Deny));
        var secret = ManagedSecretFactory.Create(new ManagedSecretSpec("configinjector-web-2", "shop",
            new Dictionary<string, string> { ["file.db.env"] = "password=\"cluster-only-pw@v1\"\nuser=\"shop\"\n" },
            new Dictionary<string, KeySource>(), new RotationSettings(TimeSpan.FromMinutes(5), Core.Annotations.RotationMode.None), null, "default")
        {
            Composed = new Dictionary<string, ComposedSource> { ["file.db.env"] = ComposedSource.ForFile("vault-prod:secret/shop/db", FileFormat.Dotenv, "1") },
        }, SyncHarness.Key);
        _sync.Api.Put("secrets", JsonNode.Parse(KubernetesJson.Serialize(secret))!.AsObject());
        _sync.Vault.Put("secret/shop/db", new Dictionary<string, string> { ["user"] = "shop", ["password"] = "cluster-only-pw:v2" });

        var result = Assert.Single(await _sync.Pass().RunAsync([_sync.Read("shop", "configinjector-web-2")], CancellationToken.None));

        Assert.Equal(ReconcileStatus.Updated, result.Status);
        Assert.Equal("password=\"cluster-only-pw:v2\"\nuser=\"shop\"\n", _sync.Value("shop", "configinjector-web-2", "file.db.env"));
    }
}
