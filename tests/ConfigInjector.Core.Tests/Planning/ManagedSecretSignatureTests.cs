using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Planning;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.Templates;
using k8s.Models;

namespace ConfigInjector.Core.Tests.Planning;

public class ManagedSecretSignatureTests
{
    private static readonly byte[] Key = [.. Enumerable.Range(0, 32).Select(i => (byte)i)];
    private static readonly byte[] NewKey = [.. Enumerable.Range(100, 32).Select(i => (byte)i)];

    private static V1Secret Signed(byte[]? key = null) => ManagedSecretFactory.Create(new ManagedSecretSpec(
        "configinjector-web-1", "shop",
        new Dictionary<string, string> { ["DB"] = "value" },
        new Dictionary<string, KeySource> { ["DB"] = new("vault:secret/db#password", "3") },
        new RotationSettings(TimeSpan.FromMinutes(5), RotationMode.Restart),
        new V1OwnerReference { ApiVersion = "apps/v1", Kind = "ReplicaSet", Name = "web-1", Uid = "rs-uid", Controller = true },
        "api"), key ?? Key);

    [Fact]
    public void A_signature_survives_new_values_and_covers_versions_which_the_writer_signs_again()
    {
        var secret = Signed();
        secret.Data["DB"] = "rotated"u8.ToArray();
        Assert.Equal(SignatureCheck.Current, ManagedSecretSignature.Verify(SigningKeys.Single(Key), secret));

        secret.Metadata.Annotations[ManagedSecretFactory.SourcesAnnotation] = """{"DB":{"ref":"vault:secret/db#password","version":"4"}}""";
        Assert.Equal(SignatureCheck.Invalid, ManagedSecretSignature.Verify(SigningKeys.Single(Key), secret));

        ManagedSecretSignature.Apply(Key, secret);      // as the sync worker does after a rotation
        Assert.Equal(SignatureCheck.Current, ManagedSecretSignature.Verify(SigningKeys.Single(Key), secret));
    }

    [Fact]
    public void A_secret_signed_before_versions_were_covered_is_accepted_once_but_vouches_for_no_version()
    {
        var secret = Signed();
        // The second release's signed text: everything as now, but the sources without their versions.
        static string Field(string value) => $"{value.Length}:{value};";
        var canonical = string.Join("\n", "v2", Field("shop"), Field("configinjector-web-1"), Field("api"), Field("restart"), Field("300s"), "-;",
            Field(secret.Metadata.Annotations[ManagedSecretFactory.OwnersAnnotation]), "source " + Field("DB") + Field("vault:secret/db#password"));
        secret.Metadata.Annotations[ManagedSecretFactory.SignatureAnnotation] = Convert.ToBase64String(System.Security.Cryptography.HMACSHA256.HashData(Key, System.Text.Encoding.UTF8.GetBytes(canonical)));
        secret.Metadata.Annotations[ManagedSecretFactory.SourcesAnnotation] = """{"DB":{"ref":"vault:secret/db#password","version":"anything"}}""";

        var check = ManagedSecretSignature.Verify(SigningKeys.Single(Key), secret);

        Assert.Equal(SignatureCheck.Legacy, check);
        Assert.False(ManagedSecretSignature.CoversVersions(check));
        ManagedSecretSignature.Upgrade(Key, secret);
        Assert.True(ManagedSecretSignature.CoversVersions(ManagedSecretSignature.Verify(SigningKeys.Single(Key), secret)));
    }

    public static TheoryData<string, Action<V1Secret>> Tampering => new()
    {
        { "namespace", s => s.Metadata.NamespaceProperty = "other" },
        { "name", s => s.Metadata.Name = "configinjector-web-2" },
        { "service account", s => s.Metadata.Annotations[ManagedSecretFactory.ServiceAccountAnnotation] = "admin" },
        { "a version", s => s.Metadata.Annotations[ManagedSecretFactory.SourcesAnnotation] = """{"DB":{"ref":"vault:secret/db#password","version":"2"}}""" },
        { "a ref", s => s.Metadata.Annotations[ManagedSecretFactory.SourcesAnnotation] = """{"DB":{"ref":"vault:secret/other-team/db#password","version":"3"}}""" },
        { "an added key", s => s.Metadata.Annotations[ManagedSecretFactory.SourcesAnnotation] = """{"DB":{"ref":"vault:secret/db#password","version":"3"},"X":{"ref":"vault:secret/x#y","version":"1"}}""" },
        { "the interval", s => s.Metadata.Annotations[ManagedSecretFactory.IntervalAnnotation] = "1s" },
        { "the rotation mode", s => s.Metadata.Annotations[ManagedSecretFactory.OnChangeAnnotation] = "none" },
        { "the lifecycle", s => s.Metadata.Annotations[ManagedSecretFactory.LifecycleAnnotation] = "manual" },
        { "an owner's name", s => s.Metadata.OwnerReferences[0].Name = "someone-elses" },
        { "an owner's kind", s => s.Metadata.OwnerReferences[0].Kind = "Deployment" },
        { "an added owner", s => s.Metadata.OwnerReferences.Add(new V1OwnerReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = "victim", Uid = "d-uid" }) },
        { "the signed owners", s => s.Metadata.Annotations[ManagedSecretFactory.OwnersAnnotation] = """[{"apiVersion":"apps/v1","kind":"Deployment","name":"victim","uid":"d-uid"}]""" },
        { "an owner swapped for another", s => s.Metadata.OwnerReferences = [new V1OwnerReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = "victim", Uid = "d-uid" }] },
        { "sources unreadable", s => s.Metadata.Annotations[ManagedSecretFactory.SourcesAnnotation] = """{"DB":null}""" },
    };

    [Theory]
    [MemberData(nameof(Tampering))]
    public void Changing_anything_the_worker_decides_on_breaks_it(string what, Action<V1Secret> tamper)
    {
        var secret = Signed();
        tamper(secret);

        Assert.True(ManagedSecretSignature.Verify(SigningKeys.Single(Key), secret) == SignatureCheck.Invalid, what);
    }

    private static readonly ComposedSource Url = ComposedSource.ForTemplate("postgres://${vault:secret/db#user}@db/app", new Dictionary<string, string> { ["vault:secret/db#user"] = "3" });
    private static readonly ComposedSource Env = ComposedSource.ForFile("vault:secret/app", FileFormat.Dotenv, "7");

    /// <summary>A signed Secret with a template key and a file of every key of a path, as admission writes them.</summary>
    private static V1Secret SignedWithComposedKeys()
    {
        var secret = Signed();
        secret.Metadata.Annotations[ComposedSources.Annotation] = ComposedSources.Serialize(new Dictionary<string, ComposedSource> { ["DATABASE_URL"] = Url, ["file.app.env"] = Env });
        ManagedSecretSignature.Apply(Key, secret);
        return secret;
    }

    private static Action<V1Secret> Composed(Dictionary<string, ComposedSource> composed) =>
        s => s.Metadata.Annotations[ComposedSources.Annotation] = ComposedSources.Serialize(composed);

    public static TheoryData<string, Action<V1Secret>> ComposedTampering => new()
    {
        // The path alone: its versions still name the old one, so only the signed path itself can refuse it.
        { "a file's from path", Composed(new() { ["DATABASE_URL"] = Url, ["file.app.env"] = Env with { From = "vault:secret/admin" } }) },
        { "a file's format", Composed(new() { ["DATABASE_URL"] = Url, ["file.app.env"] = Env with { Format = FileFormat.Json } }) },
        { "a file's version", Composed(new() { ["DATABASE_URL"] = Url, ["file.app.env"] = Env with { Versions = new Dictionary<string, string> { ["vault:secret/app"] = "6" } } }) },
        { "a template's text", Composed(new() { ["DATABASE_URL"] = Url with { Template = "${vault:secret/admin#password}" }, ["file.app.env"] = Env }) },
        { "a template's version", Composed(new() { ["DATABASE_URL"] = Url with { Versions = new Dictionary<string, string> { ["vault:secret/db#user"] = "2" } }, ["file.app.env"] = Env }) },
        { "a template turned into a file", Composed(new() { ["DATABASE_URL"] = new ComposedSource(null, "vault:secret/db", FileFormat.Dotenv, Url.Versions), ["file.app.env"] = Env }) },
        { "a composed key renamed", Composed(new() { ["ADMIN_URL"] = Url, ["file.app.env"] = Env }) },
        { "an added composed key", Composed(new() { ["DATABASE_URL"] = Url, ["file.app.env"] = Env, ["file.admin.env"] = Env with { From = "vault:secret/admin" } }) },
        { "a removed composed key", Composed(new() { ["DATABASE_URL"] = Url }) },
        { "the composed annotation removed", s => s.Metadata.Annotations.Remove(ComposedSources.Annotation) },
        { "the composed annotation unreadable", s => s.Metadata.Annotations[ComposedSources.Annotation] = "not json" },
    };

    [Theory]
    [MemberData(nameof(ComposedTampering))]
    public void Changing_what_a_composed_key_is_made_of_breaks_it(string what, Action<V1Secret> tamper)
    {
        var secret = SignedWithComposedKeys();
        Assert.Equal(SignatureCheck.Current, ManagedSecretSignature.Verify(SigningKeys.Single(Key), secret));

        tamper(secret);

        Assert.True(ManagedSecretSignature.Verify(SigningKeys.Single(Key), secret) == SignatureCheck.Invalid, what);
    }

    [Fact]
    public void Owners_the_garbage_collector_removed_keep_the_signature_valid()
    {
        var secret = Signed();
        var second = new V1OwnerReference { ApiVersion = "apps/v1", Kind = "ReplicaSet", Name = "web-2", Uid = "rs-2", Controller = true };
        ManagedSecretFactory.SetOwners(secret, [.. secret.Metadata.OwnerReferences, second]);
        ManagedSecretSignature.Apply(Key, secret);

        secret.Metadata.OwnerReferences = [second];        // the first ReplicaSet was deleted
        var oneLeft = ManagedSecretSignature.Verify(SigningKeys.Single(Key), secret);
        secret.Metadata.OwnerReferences = null;            // and the second
        var noneLeft = ManagedSecretSignature.Verify(SigningKeys.Single(Key), secret);

        Assert.Equal((SignatureCheck.Current, SignatureCheck.Current), (oneLeft, noneLeft));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not base64!")]
    [InlineData("AAAA")]
    public void Missing_or_malformed_signatures_do_not_verify(string? signature)
    {
        var secret = Signed();
        if (signature is null)
            secret.Metadata.Annotations.Remove(ManagedSecretFactory.SignatureAnnotation);
        else
            secret.Metadata.Annotations[ManagedSecretFactory.SignatureAnnotation] = signature;

        Assert.Equal(SignatureCheck.Invalid, ManagedSecretSignature.Verify(SigningKeys.Single(Key), secret));
    }

    [Fact]
    public void During_a_key_rotation_the_previous_key_still_verifies_and_says_so()
    {
        var old = Signed(Key);
        var fresh = Signed(NewKey);
        var rotating = new SigningKeys(NewKey, [Key]);

        Assert.Equal(SignatureCheck.Previous, ManagedSecretSignature.Verify(rotating, old));
        Assert.Equal(SignatureCheck.Current, ManagedSecretSignature.Verify(rotating, fresh));
        Assert.Equal(SignatureCheck.Invalid, ManagedSecretSignature.Verify(SigningKeys.Single(NewKey), old));
        Assert.Equal(SignatureCheck.Invalid, ManagedSecretSignature.Verify(SigningKeys.Single(new byte[32]), fresh));
    }
}
