using ConfigInjector.Core.Planning;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Rotation;
using ConfigInjector.Core.Secrets;
using ConfigInjector.Core.Templates;
using k8s.Models;

namespace ConfigInjector.Core.Tests.Templates;

/// <summary>
/// Keys composed from several values, as the sync worker re-renders them: a template over two refs and a file of
/// every key of a path. A change of any ref re-renders; a new version with the same text is only recorded; a ref that
/// cannot be read (or is no longer allowed) keeps the last value and is named, never a value.
/// </summary>
public class ComposedSourceTests
{
    private static readonly SecretLocation Db = new("vault", "secret/db", null);
    private static readonly SecretLocation Host = new("vault", "secret/host", null);

    private static readonly ComposedSource Url = ComposedSource.ForTemplate(
        "postgres://${vault:secret/db#user}:${vault:secret/db#password|urlencode}@${vault:secret/host#name}/app",
        new Dictionary<string, string> { ["vault:secret/db#password"] = "1", ["vault:secret/db#user"] = "1", ["vault:secret/host#name"] = "4" });

    private static readonly ComposedSource Env = ComposedSource.ForFile("vault:secret/db", FileFormat.Dotenv, "1");

    private static readonly Dictionary<string, ComposedSource> Composed = new() { ["DATABASE_URL"] = Url, ["file..env"] = Env };

    private static Dictionary<SecretLocation, SecretRead> Reads(string password, string dbVersion) => new()
    {
        [Db] = SecretRead.Found(Db, new SecretDocument(dbVersion, new Dictionary<string, string> { ["user"] = "app", ["password"] = password })),
        [Host] = SecretRead.Found(Host, new SecretDocument("4", new Dictionary<string, string> { ["name"] = "db:5432" })),
    };

    private static readonly Dictionary<string, string> Current = new()
    {
        ["DATABASE_URL"] = "postgres://app:p%40ss@db:5432/app",
        ["file..env"] = "password=\"p@ss\"\nuser=\"app\"\n",
    };

    [Fact]
    public void Nothing_changes_when_every_value_and_version_is_the_same()
    {
        var outcome = ComposedRotation.Plan(Current, Composed, Reads("p@ss", "1"));

        Assert.False(outcome.Changed);
        Assert.Empty(outcome.Failures);
    }

    [Fact]
    public void One_changed_ref_re_renders_every_key_that_uses_it_with_its_new_version()
    {
        var outcome = ComposedRotation.Plan(Current, Composed, Reads("n3w:pw", "2"));

        Assert.Equal(["DATABASE_URL", "file..env"], outcome.ChangedKeys);
        Assert.Equal("postgres://app:n3w%3Apw@db:5432/app", outcome.Data["DATABASE_URL"]);
        Assert.Equal("password=\"n3w:pw\"\nuser=\"app\"\n", outcome.Data["file..env"]);
        Assert.Equal("2", outcome.Composed["DATABASE_URL"].Versions["vault:secret/db#password"]);
        Assert.Equal("4", outcome.Composed["DATABASE_URL"].Versions["vault:secret/host#name"]);
        Assert.True(outcome.EnvChanged);
    }

    [Fact]
    public void A_new_version_with_the_same_text_is_recorded_only()
    {
        var outcome = ComposedRotation.Plan(Current, Composed, Reads("p@ss", "2"));

        Assert.Empty(outcome.ChangedKeys);
        Assert.Equal(["DATABASE_URL", "file..env"], outcome.NewVersionOnlyKeys);
        Assert.False(outcome.EnvChanged);
    }

    [Fact]
    public void A_ref_that_cannot_be_read_keeps_the_last_value_and_is_named()
    {
        var reads = Reads("n3w", "2");
        reads[Host] = SecretRead.Failed(Host, "connection refused");

        var outcome = ComposedRotation.Plan(Current, Composed, reads);

        Assert.Equal(["DATABASE_URL: vault:secret/host#name: backend error: connection refused"], outcome.Failures);
        Assert.Equal(["file..env"], outcome.Data.Keys);
        Assert.DoesNotContain(outcome.Failures, f => f.Contains("n3w", StringComparison.Ordinal));
    }

    [Fact]
    public void Each_key_of_a_formatted_file_is_decided_as_read_never_the_bare_path()
    {
        // A rule that names keys allows no bare path: the file is still refreshed, key by key, as admission decided it.
        var keysOnly = ComposedRotation.Plan(Current, Composed, Reads("n3w", "2"), r => r.Key is null ? "no rule allows a bare path" : null);
        Assert.Empty(keysOnly.Failures);
        Assert.Equal("password=\"n3w\"\nuser=\"app\"\n", keysOnly.Data["file..env"]);

        var revoked = ComposedRotation.Plan(Current, Composed, Reads("n3w", "2"), r => r.Key == "password" ? "not allowed any more" : null);
        Assert.Equal(["DATABASE_URL: vault:secret/db#password: not allowed any more", "file..env: vault:secret/db#password: not allowed any more"], revoked.Failures);
        Assert.Empty(revoked.Data);
    }

    [Fact]
    public void Locations_are_every_path_read_once()
    {
        Assert.Equal([Db, Host], ComposedRotation.Locations(Composed).OrderBy(l => l.Path));
    }

    [Fact]
    public void The_annotation_round_trips_and_any_other_shape_is_not_ours()
    {
        var json = ComposedSources.Serialize(Composed);
        var parsed = ComposedSources.Parse(json)!;

        Assert.Equal(Url.Template, parsed["DATABASE_URL"].Template);
        Assert.Equal(Url.Versions, parsed["DATABASE_URL"].Versions);
        Assert.Equal((Env.From, Env.Format), (parsed["file..env"].From, parsed["file..env"].Format));
        Assert.Null(ComposedSources.Parse("[]"));
        Assert.Null(ComposedSources.Parse("{\"K\":{\"template\":\"${a:b#c}\",\"from\":\"a:b\",\"format\":\"json\",\"versions\":{}}}"));
        Assert.Null(ComposedSources.Parse("{\"K\":{\"from\":\"a:b\",\"format\":\"toml\",\"versions\":{}}}"));
        Assert.Null(ComposedSources.Parse("{\"K\":{\"template\":\"x\",\"versions\":{\"a\":1}}}"));
        Assert.Null(ComposedSources.Parse("not json"));
        Assert.Null(ComposedSources.Parse("{\"K\":{\"template\":\"${a:b#c}\",\"versions\":{}},\"K\":{\"template\":\"${a:b#d}\",\"versions\":{}}}"));
        Assert.Null(ComposedSources.Parse("{\"K\":{\"template\":\"${a:b#c}\",\"versions\":{\"a:b#c\":\"1\",\"a:b#c\":\"2\"}}}"));
        Assert.Null(ComposedSources.Parse(new string('[', 5000)));
    }

    [Fact]
    public void The_signature_covers_what_a_key_is_composed_of_and_its_versions_and_leaves_other_secrets_as_they_were()
    {
        var key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        var keys = new SigningKeys(key, []);
        V1Secret Secret(IReadOnlyDictionary<string, ComposedSource>? composed)
        {
            var secret = ManagedSecretFactory.Create(new ManagedSecretSpec("configinjector-web-1", "shop", new Dictionary<string, string> { ["A"] = "x" },
                new Dictionary<string, KeySource> { ["A"] = new("vault:secret/db#user", "1") }, ConfigInjector.Core.Policies.RotationSettings.Default, null, "web"), key);
            if (composed is not null)
            {
                secret.Metadata.Annotations[ComposedSources.Annotation] = ComposedSources.Serialize(composed);
                ManagedSecretSignature.Apply(key, secret);
            }
            return secret;
        }
        var plain = Secret(null);
        var signed = Secret(Composed);

        Assert.Equal(SignatureCheck.Current, ManagedSecretSignature.Verify(keys, plain));
        Assert.Equal(SignatureCheck.Current, ManagedSecretSignature.Verify(keys, signed));

        signed.Metadata.Annotations[ComposedSources.Annotation] = ComposedSources.Serialize(new Dictionary<string, ComposedSource>
        {
            ["DATABASE_URL"] = Url with { Versions = new Dictionary<string, string>(Url.Versions) { ["vault:secret/db#password"] = "9" } },
            ["file..env"] = Env,
        });
        Assert.Equal(SignatureCheck.Invalid, ManagedSecretSignature.Verify(keys, signed));      // a version edited by someone else
        ManagedSecretSignature.Apply(key, signed);
        Assert.Equal(SignatureCheck.Current, ManagedSecretSignature.Verify(keys, signed));      // the worker's rotation signs the new one

        signed.Metadata.Annotations[ComposedSources.Annotation] = ComposedSources.Serialize(new Dictionary<string, ComposedSource>
        {
            ["DATABASE_URL"] = Url with { Template = "${vault:secret/admin#password}" },
            ["file..env"] = Env,
        });
        Assert.Equal(SignatureCheck.Invalid, ManagedSecretSignature.Verify(keys, signed));      // another secret swapped in
    }

    [Fact]
    public void Refs_come_from_the_signed_template_not_from_the_versions_anyone_could_extend()
    {
        var forged = Url with { Versions = new Dictionary<string, string>(Url.Versions) { ["vault:secret/admin#root"] = "1" } };

        Assert.Equal([Db, Host], ComposedRotation.Locations(new Dictionary<string, ComposedSource> { ["DATABASE_URL"] = forged }).OrderBy(l => l.Path));
        var outcome = ComposedRotation.Plan(Current, new Dictionary<string, ComposedSource> { ["DATABASE_URL"] = forged }, Reads("p@ss", "1"));
        Assert.DoesNotContain("vault:secret/admin#root", outcome.Composed["DATABASE_URL"].Versions.Keys);
    }

    [Fact]
    public void A_secret_in_the_first_releases_form_with_a_composed_key_is_not_ours()
    {
        var key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        var secret = ManagedSecretFactory.Create(new ManagedSecretSpec("configinjector-web-1", "shop", new Dictionary<string, string> { ["A"] = "x" },
            new Dictionary<string, KeySource> { ["A"] = new("vault:secret/db#user", "1") }, ConfigInjector.Core.Policies.RotationSettings.Default, null, "web"), key);
        secret.Metadata.Annotations.Remove(ManagedSecretFactory.OwnersAnnotation);
        var legacy = string.Join("\n", "v1", "shop", "configinjector-web-1", "web", "A=vault:secret/db#user");
        secret.Metadata.Annotations[ManagedSecretFactory.SignatureAnnotation] = Convert.ToBase64String(System.Security.Cryptography.HMACSHA256.HashData(key, System.Text.Encoding.UTF8.GetBytes(legacy)));
        Assert.Equal(SignatureCheck.Legacy, ManagedSecretSignature.Verify(SigningKeys.Single(key), secret));

        secret.Metadata.Annotations[ComposedSources.Annotation] = ComposedSources.Serialize(Composed);

        Assert.Equal(SignatureCheck.Invalid, ManagedSecretSignature.Verify(SigningKeys.Single(key), secret));
    }

    [Fact]
    public void A_file_entry_without_a_format_is_not_ours() =>
        Assert.Null(ComposedSources.Parse("{\"K\":{\"from\":\"a:b\",\"versions\":{\"a:b\":\"1\"}}}"));
}
